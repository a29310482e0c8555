"""Every word the workbook shows, in English and Chinese. Column ids never change with language."""

from __future__ import annotations

from sheetnet.errors import SheetnetError

LANGUAGES = ("en", "zh")

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "sheet.network": "Network",
        "sheet.training": "Training",
        "group.iter": "Iteration",
        "group.param": "Parameters used in this iteration",
        "group.forward": "Forward pass",
        "group.loss": "Loss",
        "group.backward": "Backward pass: δ = ∂L/∂z",
        "group.gradient": "Gradients ∂L/∂θ",
        "label.iter": "t (updates so far)",
        "label.loss": "L",
        "label.sample": "sample {k}",
        "setting.learning_rate": "Learning rate η",
        "setting.iterations": "Iterations",
        "setting.sizes": "Layer sizes",
        "setting.activations": "Activations",
        "setting.bias": "Bias",
        "setting.train_bias": "Biases trained",
        "setting.loss": "Loss",
        "setting.reduction": "Over samples",
        "network.editable": "Yellow cells are inputs: change one and every iteration recomputes.",
        "network.data": "Training data",
        "network.sample": "Sample",
        "network.layer": "Layer {l} ({n_from} → {n_to}, {act}): initial weights w (row = into neuron, "
        "column = from neuron){bias}",
        "network.bias_col": " and biases b",
        "network.into_from": "into ↓ from →",
        "network.bias": "b",
        "network.lr_error": "The learning rate must be a number greater than 0.",
    },
    "zh": {
        "sheet.network": "网络",
        "sheet.training": "训练",
        "group.iter": "迭代",
        "group.param": "本次迭代使用的参数",
        "group.forward": "前向传播",
        "group.loss": "损失",
        "group.backward": "反向传播：δ = ∂L/∂z",
        "group.gradient": "梯度 ∂L/∂θ",
        "label.iter": "t（已更新次数）",
        "label.loss": "L",
        "label.sample": "样本{k}",
        "setting.learning_rate": "学习率 η",
        "setting.iterations": "迭代次数",
        "setting.sizes": "各层神经元数",
        "setting.activations": "激活函数",
        "setting.bias": "偏置",
        "setting.train_bias": "偏置参与训练",
        "setting.loss": "损失函数",
        "setting.reduction": "多个样本时",
        "network.editable": "黄色单元格是输入：改动任意一个，所有迭代都会重新计算。",
        "network.data": "训练数据",
        "network.sample": "样本",
        "network.layer": "第{l}层（{n_from} → {n_to}，{act}）：初始权重 w（行 = 流入的神经元，"
        "列 = 来自的神经元）{bias}",
        "network.bias_col": "及偏置 b",
        "network.into_from": "流入 ↓ 来自 →",
        "network.bias": "b",
        "network.lr_error": "学习率必须是大于 0 的数。",
    },
}


def strings(lang: str) -> dict[str, str]:
    if lang not in STRINGS:
        raise SheetnetError(f"unknown language {lang!r}; expected one of: {', '.join(LANGUAGES)}")
    return STRINGS[lang]


def sheet_names(key: str) -> list[str]:
    """A sheet's name in every language (the check accepts a workbook in any of them)."""
    return [STRINGS[lang][key] for lang in LANGUAGES]
