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
