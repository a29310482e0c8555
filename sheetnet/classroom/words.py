"""The classroom's words in English and Chinese (the sheets' own words are in sheets/i18n.py)."""

from __future__ import annotations

from sheetnet.sheets.i18n import strings

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "sheet.feedback": "Feedback",
        "exercise.title": "Exercise: iteration 1 by hand",
        "key.mark": "KEY",
        "exercise.student": "Student: {id} {name}",
        "exercise.note": "Compute each quantity of iteration 1 from the numbers on the {network} sheet, "
        "in this order, and type it in its yellow cell: a number (0.505), a formula (=0.05*0.02+0.5) or "
        "text with a decimal comma (0,505). An answer counts as right within 4 significant figures. "
        "Keep at least 4 significant figures in the numbers you carry on.",
        "exercise.practice": "Practice: ✓ or ✗ appears beside each answer. Edit a yellow cell on the "
        "{network} sheet for new numbers.",
        "exercise.reveal": "Show the expected values:",
        "exercise.yes": "yes",
        "exercise.no": "no",
        "exercise.quantity": "Quantity",
        "exercise.equation": "In symbols",
        "exercise.iter": "Row",
        "exercise.id": "Id",
        "exercise.answer": "Your answer",
        "exercise.check": "Check",
        "exercise.expected": "Expected",
        "group.forward": "Forward pass: z, then a = f(z)",
        "group.loss": "Loss",
        "group.backward": "Backward pass: δ = ∂L/∂z, from the output layer back",
        "group.gradients": "Gradients ∂L/∂θ",
        "group.update": "Update θ′ = θ − η·∂L/∂θ: each parameter after the update",
        "feedback.title": "Feedback: {id} {name}",
        "feedback.score": "Score {score:g} of {max} ({percent:.1f}%); an answer counts as right "
        "within {tol}.",
        "feedback.flags": "Note: {flags}",
        "feedback.your_answer": "Your answer",
        "feedback.verdict": "Verdict",
        "feedback.mistake": "What went wrong",
        "feedback.how": "How (with the expected numbers)",
        "verdict.right": "right",
        "verdict.ecf": "right from your earlier answers",
        "verdict.wrong": "wrong",
        "verdict.blank": "blank",
        "mistake.sign": "the sign is wrong",
        "mistake.sigma_prime": "the factor f′(z) is missing from δ",
        "mistake.lr_forgotten": "the learning rate η is missing from the update",
        "mistake.lr_twice": "the learning rate η is applied twice",
        "mistake.transposed": "the weight indices are transposed (w_ij for w_ji)",
        "mistake.half_dropped": "the ½ of ½Σ(y−t)² is dropped",
        "mistake.half_doubled": "the ½ of ½Σ(y−t)² is applied twice",
        "mistake.mean_as_sum": "a sum where the mean is asked (not divided by the count)",
        "mistake.not_a_number": "not a number: {text}",
        "tolerance": "4 significant figures (relative error ≤ 5e-4, or 5e-8 near zero)",
        "tolerance.n": "{n} significant figures (relative error ≤ {rel:g}, or 5e-8 near zero)",
    },
    "zh": {
        "sheet.feedback": "反馈",
        "exercise.title": "练习：手算第 1 次迭代",
        "key.mark": "答案",
        "exercise.student": "学生：{id} {name}",
        "exercise.note": "按顺序用{network}表中的数字计算第 1 次迭代的每个量，并填进它的黄色单元格："
        "可以填数字（0.505）、公式（=0.05*0.02+0.5）或用逗号作小数点的文字（0,505）。"
        "答案在 4 位有效数字以内即为正确。往下计算时请至少保留 4 位有效数字。",
        "exercise.practice": "练习模式：每个答案旁会显示 ✓ 或 ✗。"
        "改动{network}表中的黄色单元格即可换一组数字。",
        "exercise.reveal": "显示正确答案：",
        "exercise.yes": "是",
        "exercise.no": "否",
        "exercise.quantity": "量",
        "exercise.equation": "符号公式",
        "exercise.iter": "行",
        "exercise.id": "编号",
        "exercise.answer": "你的答案",
        "exercise.check": "核对",
        "exercise.expected": "正确答案",
        "group.forward": "前向传播：先求 z，再求 a = f(z)",
        "group.loss": "损失",
        "group.backward": "反向传播：δ = ∂L/∂z，从输出层往回算",
        "group.gradients": "梯度 ∂L/∂θ",
        "group.update": "参数更新 θ′ = θ − η·∂L/∂θ：更新后的每个参数",
        "feedback.title": "反馈：{id} {name}",
        "feedback.score": "得分 {score:g} / {max}（{percent:.1f}%）；答案在{tol}以内即为正确。",
        "feedback.flags": "注意：{flags}",
        "feedback.your_answer": "你的答案",
        "feedback.verdict": "评判",
        "feedback.mistake": "错在哪里",
        "feedback.how": "算法（代入正确的数字）",
        "verdict.right": "正确",
        "verdict.ecf": "按你前面的答案算是正确的",
        "verdict.wrong": "错误",
        "verdict.blank": "未作答",
        "mistake.sign": "符号错了",
        "mistake.sigma_prime": "δ 中漏了因子 f′(z)",
        "mistake.lr_forgotten": "更新时漏了学习率 η",
        "mistake.lr_twice": "更新时学习率 η 乘了两次",
        "mistake.transposed": "权重的下标颠倒了（把 w_ji 写成 w_ij）",
        "mistake.half_dropped": "漏了 ½Σ(y−t)² 中的 ½",
        "mistake.half_doubled": "½Σ(y−t)² 中的 ½ 乘了两次",
        "mistake.mean_as_sum": "应取平均却求了和（没有除以个数）",
        "mistake.not_a_number": "不是数字：{text}",
        "tolerance": "4 位有效数字（相对误差 ≤ 5e-4，接近 0 时绝对误差 ≤ 5e-8）",
        "tolerance.n": "{n} 位有效数字（相对误差 ≤ {rel:g}，接近 0 时绝对误差 ≤ 5e-8）",
    },
}


def words(lang: str) -> dict[str, str]:
    """The sheets' words and the classroom's, in `lang` (an unknown language is refused there)."""
    return {**strings(lang), **WORDS[lang]}
