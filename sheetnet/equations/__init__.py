"""Training unrolled into named quantities: the expression tree of every Training-sheet column
(graph), its label in the seeds' notation (labels), its equation as a header note (notes), and the
hand calculation it prints as on the Working sheet (textprint).

It may import `model`, `expr` and the top-level helpers; never `sheets`, `verify` or `engines`.
Cell addresses are not made here: the sheets' layout turns quantities into cells.
"""
