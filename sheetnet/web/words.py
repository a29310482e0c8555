"""The console's words in English and Chinese; a page asks for them by key (`t("build")`)."""

from __future__ import annotations

LANGUAGES = ("en", "zh")

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "title": "sheetnet console",
        "build": "Build", "exercise": "Practice exercise", "class": "Class", "grade": "Grade",
        "check": "Check", "language": "中文",
        "template": "Template", "load": "Load", "fields": "The network (every field of the spec)",
        "upload_toml": "Or upload a spec TOML file", "upload_csv": "A CSV data file (for data.csv)",
        "upload": "Upload", "options": "Options", "iterations_note": "training.iterations above",
        "lang": "Workbook language",
        "paper": "Paper",
        "compare_lr": "Compare learning rates (e.g. 0.1,0.5,2)",
        "compare_optim": "Compare optimizers (e.g. sgd,momentum,adam)",
        "decision_map": "Decision map: points a side (0: none)",
        "summary_every": "Summary: every k-th iteration",
        "pdf": "Also print a PDF handout",
        "no_libreoffice": "PDF needs LibreOffice, which is not installed here",
        "ask": "Questions asked", "sig_figs": "Significant figures an answer needs",
        "do_build": "Build the workbook", "do_exercise": "Build the practice workbook",
        "working": "Working…", "cancel": "Cancel", "cancelled": "Cancelled.", "failed": "Error",
        "downloads": "Downloads", "network": "The network",
        "roster": "Roster (CSV with an id column, or an LMS export)", "secret": "Class secret",
        "secret_note": "Keep it: the same secret rebuilds the same class. It is never shown or stored here.",
        "vary": "What varies (inputs, targets, weights, biases, lr)",
        "decimals": "Decimals of the drawn numbers",
        "do_class": "Make the class", "class_zip": "The class folder (zip)",
        "student_zip": "The students' files (zip, for the LMS)",
        "class_made": "Class made: {n} students.", "session_class": "Use the class made in this session",
        "class_upload": "Or upload a class folder zip",
        "grade_secret": "The class secret (for an uploaded class)",
        "submissions": "Submissions (.xlsx files, or one zip)",
        "ecf_credit": "Credit for error carried forward",
        "do_grade": "Grade", "gradebook": "Gradebook", "feedback_zip": "Feedback workbooks (zip)",
        "report": "Class report", "feedback": "Feedback", "view": "view", "flags": "flags",
        "workbook": "Workbook", "do_check": "Check the workbook", "sheet": "Sheet", "group": "Group",
        "cells": "Cells", "max_abs": "Largest error", "max_rel": "Largest relative error",
        "check_ok": "OK: every cell agrees with the NumPy core.", "check_fail": "FAIL",
        "engine": "Engine", "no_class": "Make a class first, or upload a class zip.",
        "sort_hint": "Click a column heading to sort.", "right": "right", "ecf": "ecf", "wrong": "wrong",
        "blank": "blank", "warnings": "Files not graded",
        "graded_of": "{graded} of {students} students graded",
        "platforms": "Also an LMS import file:",
        "quantity": "Quantity", "answer": "Answer", "key": "Key", "verdict": "Verdict", "slip": "Likely slip",
        "assignment": "Assignment name (LMS)",
        "intro_build": "Choose a template, edit any field, and download a workbook where every number"
                       " of training is a live formula.",
        "intro_exercise": "The same workbook with an Exercise sheet that checks each answer live.",
        "intro_class": "One workbook per student, each with its own numbers, and the keys.",
        "intro_grade": "Grade the students' files against their own keys, with error carried forward.",
        "intro_check": "Recompute a workbook's formulas and compare every cell with the NumPy core.",
    },
    "zh": {
        "title": "sheetnet 控制台",
        "build": "生成", "exercise": "练习", "class": "班级", "grade": "评分", "check": "检查",
        "language": "English",
        "template": "模板", "load": "载入", "fields": "网络（规格的每个字段）",
        "upload_toml": "或上传规格 TOML 文件", "upload_csv": "CSV 数据文件（供 data.csv 使用）",
        "upload": "上传", "options": "选项", "iterations_note": "见上方 training.iterations",
        "lang": "工作簿语言", "paper": "纸张", "compare_lr": "比较学习率（如 0.1,0.5,2）",
        "compare_optim": "比较优化器（如 sgd,momentum,adam）",
        "decision_map": "决策图：每边点数（0：不要）", "summary_every": "摘要：每 k 次迭代",
        "pdf": "同时打印 PDF 讲义", "no_libreoffice": "PDF 需要 LibreOffice，本机未安装",
        "ask": "提问的步骤", "sig_figs": "答案需要的有效数字",
        "do_build": "生成工作簿", "do_exercise": "生成练习工作簿",
        "working": "处理中…", "cancel": "取消", "cancelled": "已取消。", "failed": "错误",
        "downloads": "下载", "network": "网络结构",
        "roster": "名单（含 id 列的 CSV，或 LMS 导出）", "secret": "班级密钥",
        "secret_note": "请保存：同一密钥可重建同一班级。这里不会显示或保存它。",
        "vary": "变化的内容（inputs, targets, weights, biases, lr）", "decimals": "抽取数字的小数位",
        "do_class": "生成班级", "class_zip": "班级文件夹（zip）",
        "student_zip": "学生文件（zip，可上传到 LMS）",
        "class_made": "班级已生成：{n} 名学生。", "session_class": "使用本次会话生成的班级",
        "class_upload": "或上传班级文件夹 zip", "grade_secret": "班级密钥（上传的班级需要）",
        "submissions": "提交的作业（.xlsx 文件或一个 zip）", "ecf_credit": "误差传递（ecf）的得分",
        "do_grade": "评分", "gradebook": "成绩单", "feedback_zip": "反馈工作簿（zip）",
        "report": "班级报告", "feedback": "反馈", "view": "查看", "flags": "标记",
        "workbook": "工作簿", "do_check": "检查工作簿", "sheet": "工作表", "group": "组",
        "cells": "单元格", "max_abs": "最大误差", "max_rel": "最大相对误差",
        "check_ok": "通过：每个单元格都与 NumPy 核心一致。", "check_fail": "失败",
        "engine": "引擎", "no_class": "请先生成班级，或上传班级 zip。",
        "sort_hint": "点击列标题排序。", "right": "对", "ecf": "传递", "wrong": "错", "blank": "空",
        "warnings": "未评分的文件",
        "graded_of": "已评分 {graded} 名学生（共 {students} 名）",
        "platforms": "另写 LMS 导入文件：",
        "quantity": "量", "answer": "答案", "key": "标准答案", "verdict": "判定", "slip": "可能的失误",
        "assignment": "作业名称（LMS）",
        "intro_build": "选择模板，修改任意字段，下载一个训练中每个数字都是实时公式的工作簿。",
        "intro_exercise": "同样的工作簿，另加一个即时检查每个答案的练习表。",
        "intro_class": "每名学生一个工作簿，各有自己的数字，另附答案。",
        "intro_grade": "按每名学生自己的答案评分，并计入误差传递。",
        "intro_check": "重新计算工作簿的公式，并与 NumPy 核心逐格比较。",
    },
}


def choose_language(asked: str | None, cookie: str | None, accept: str) -> str:
    """The page's language: the switch's choice, else the remembered one, else the browser's."""
    for lang in (asked, cookie):
        if lang in LANGUAGES:
            return lang
    for part in accept.split(","):
        code = part.split(";")[0].strip().lower()
        if code.startswith("zh"):
            return "zh"
        if code.startswith("en"):
            return "en"
    return "en"


# The Build form's help beside each spec field, in Chinese (the English is the field's doc in
# model/fields.py); tests/test_web.py fails when a field of the form has none here.
FIELD_DOCS_ZH: dict[str, str] = {
    "title": "网络的标题，显示在工作簿中（默认：文件名）。",
    "description": "例子的来源和可以尝试的做法；显示在指南表上。",
    "zh.title": "中文标题。",
    "zh.description": "中文说明。",
    "network.sizes": "每层神经元数：输入、隐藏层…、输出，例如 [2, 2, 2]（或用 input_shape 和 layers）。",
    "network.activations": "输入层之后每层一个激活函数；softmax 只能用于输出层（与 sizes 一起用）。",
    "network.input_shape": ("代替 sizes：一个样本的形状，[特征数]、[步数, 特征数] 或 [通道, 高, 宽]；"
                            "与 [[network.layers]] 一起用。"),
    "network.layers": ("代替 sizes/activations：按顺序列出各层（conv2d、maxpool2d、avgpool2d、flatten、"
                       "dense、rnn、attention、layernorm、meanpool）；最后一层是 dense。"),
    "network.bias": "none（无偏置）、shared（每层一个数）或 per-neuron（每个神经元一个）。",
    "network.train_bias": "false：偏置保持不变（如种子教程 001）。",
    "network.loss": ("half_sse = ½Σ(y−t)²、sse、mse、cross_entropy（softmax 输出）、"
                     "binary_cross_entropy（sigmoid 输出）。"),
    "network.leaky_slope": "z > 0 时 leaky_relu(z) = z，否则为 slope·z；0 ≤ slope < 1。",
    "training.learning_rate": "学习率 η，一个正数。",
    "training.iterations": "更新次数，每次占训练表的一行。",
    "training.reduction": "多个样本时：损失（和梯度）取平均还是求和。",
    "training.mode": "每次更新用的样本：batch（全部）、sgd（一个）或 minibatch（batch_size 个）。",
    "training.batch_size": "minibatch 模式下每次更新的样本数；必须整除样本总数。",
    "training.shuffle": "sgd/minibatch：每一轮重新打乱样本顺序。",
    "training.seed": "打乱顺序用的随机种子（仅当 shuffle = true）。",
    "training.optimizer": "每次更新如何使用梯度，与 torch.optim 的计算相同。",
    "training.momentum": "momentum、nesterov（默认 0.9）；rmsprop（默认 0）。",
    "training.beta1": "adam、adamw：m 的衰减率。",
    "training.beta2": "adam、adamw：v 的衰减率。",
    "training.eps": "rmsprop、adam、adamw（默认 1e-8）；adagrad（默认 1e-10）。",
    "training.alpha": "rmsprop：梯度平方的平滑系数。",
    "training.weight_decay": "所有优化器：g + λ·θ（L2）；adamw 直接衰减 θ。",
    "init.weights": "每层一个矩阵，[到][从]：z = W·a + b。",
    "init.biases": "每层一个列表（per-neuron）或一个数（shared）。",
    "init.layers": "与 network.layers 一起用：每个有参数的层一张表，按层的顺序，形状与 torch 相同。",
    "init.seed": "代替 weights/biases：在 ±1/√fan_in 内均匀随机取值，保留 4 位小数，偏置为 0。",
    "data.inputs": "每个样本一行输入值；与 network.layers 一起用时，是 input_shape 形状的嵌套列表。",
    "data.targets": "每个样本一行目标值。",
    "data.csv": "一个 CSV 文件（首行为表头，每行一个样本），路径相对于本文件。",
    "data.input_columns": "作为输入的 CSV 列。",
    "data.target_columns": "作为目标值的 CSV 列（数字）。",
    "data.label_column": "类别名称所在的 CSV 列，按排序后的顺序做独热编码。",
    "data.standardize": "输入 x̃ = (x − μ)/σ（按输入列），在网络表上实时计算。",
    "data.decimal": "CSV 的小数点符号（默认 \".\"）：数字写成 5,1 时用 \",\"（欧洲版 Excel）。",
}
