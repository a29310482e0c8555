"""The classroom kit: exercises with blanks, a variant of the network per student, answer keys,
and grading with error carried forward.

A layer above verify: it may import errors, atomic, expr, engines, model, equations, sheets and
verify, and is imported only by the api and the cli.
"""
