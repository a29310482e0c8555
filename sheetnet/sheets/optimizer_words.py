"""The optimizers' words (settings, column notes, Guide lines), in English and Chinese; i18n.py
merges them into its tables."""

from __future__ import annotations

EN: dict[str, str] = {
    "group.optimizer": "Optimizer: state and step Δθ",
    "setting.optimizer": "Optimizer",
    "setting.momentum": "Momentum μ",
    "setting.beta1": "β₁ (decay of m)",
    "setting.one_minus_beta1": "1 − β₁",
    "setting.beta2": "β₂ (decay of v)",
    "setting.one_minus_beta2": "1 − β₂",
    "setting.eps": "ε (added to the root)",
    "setting.alpha": "RMSprop smoothing α",
    "setting.one_minus_alpha": "1 − α",
    "setting.weight_decay": "Weight decay λ",
    "network.weight_decay_fixed": "0 (no weight decay; set weight_decay in the spec to make it live)",
    "network.momentum_fixed": "0 (RMSprop without momentum; set momentum in the spec to make it live)",
    "network.fraction_error": "This value must lie in [0, 1).",
    "network.positive_error": "This value must be greater than 0.",
    "network.nonnegative_error": "This value must be at least 0.",
    "label.bc1": "1 − β₁ᵗ⁺¹",
    "label.bc2": "1 − β₂ᵗ⁺¹",
    "note.opt.param": "Parameter used in this iteration; the next row subtracts the optimizer's step:",
    "note.opt.bc": "Adam's bias correction for update t + 1 (the row's t counts the updates before it):",
    "note.opt.b": "Momentum buffer (torch's momentum_buffer; it starts at the first gradient):",
    "note.opt.b_rms": "RMSprop's momentum buffer (it starts at 0):",
    "note.opt.m": "First moment m: a running average of the gradient (it starts at 0):",
    "note.opt.v": "Second moment v: a running average of the squared gradient (it starts at 0):",
    "note.opt.s": "Running average s of the squared gradient (it starts at 0):",
    "note.opt.G": "Sum G of the squared gradients so far:",
    "note.opt.step": "The step Δ that the next row subtracts from the parameter:",
    "note.opt.decay": "g = ∂L/∂θ + λ·θ: L2 weight decay added to the gradient.",
    "note.opt.above": "(row above)",
    "working.optimizer": "Optimizer ({optimizer}): its state and the step Δθ of update 1",
    "working.optimizer_update": "Update θ′ = θ − Δθ: the parameters of iteration 2",
    "guide.optimizer_heading": "The optimizer: {optimizer}",
    "sheet.compare_optim": "Optimizers",
    "sheet.map": "Decision map",
    "sheet.curve": "Fitted curve",
    "map.title.map": "Decision map: the network's output over its two inputs at iteration t",
    "map.title.curve": "Fitted curve: the network's output over its input at iteration t",
    "map.note.map": "Each cell is the forward pass for its x₁ (top row) and x₂ (left column), in the data's "
    "units, with the parameters of row t of the {training} sheet. Change t to replay training (0, 10, "
    "100, …); framed cells hold a data point.",
    "map.note.classes": "Each cell is the predicted class plus its probability at its x₁ (top row) and x₂ "
    "(left column), with the parameters of row t of the {training} sheet: 2.87 is class 2 with "
    "probability 0.87 (2.99: 0.99 or more). The class is the largest z of the grids below, the "
    "probability its softmax; the colour is the class, darker where the network is surer. Change t to "
    "replay training; framed cells hold a data point.",
    "map.z_grid": "{z} ({name}) at each point of the map above",
    "map.class": "class {n}",
    "map.legend": "Classes:",
    "map.note.curve": "Each output is the forward pass for its x, with the parameters of row t of the "
    "{training} sheet; the chart draws the curve over the data points. Change t to replay training.",
    "map.t": "Iteration t",
    "map.t_error": "t must be a whole number from 0 to {n}.",
    "map.range": "{x} from",
    "map.to": "to",
    "map.parameters": "Parameters at t",
    "map.corner": "x₂ ↓  x₁ →",
    "map.output": "output at t",
    "map.data": "data",
    "map.curve_chart": "The fitted curve at iteration t and the data",
    "compare_optim.title": "The same network trained by each optimizer",
    "compare_optim.note": "Same data and initial weights; each block is the Training sheet trained by "
    "one optimizer, reading η and its hyperparameters from the yellow cells at its top: edit one and "
    "that block trains again.",
    "compare_optim.optimizer": "optimizer",
    "compare_optim.block": "Optimizer {n} of {total}: {optimizer}",
    "compare_optim.cells": "its settings →",
    "compare_optim.chart_title": "Loss L for each optimizer (log scale)",
    "guide.opt.sgd": "Plain gradient descent with L2 weight decay: Δθ = η·(∂L/∂θ + λ·θ). Pitfall: λ too "
    "large pulls every weight to 0 faster than the data can push back.",
    "guide.opt.momentum": "Momentum (torch.optim.SGD, momentum = μ): the buffer b adds up the gradients, "
    "b = μ·b + g, starting at b = g; Δθ = η·b. Pitfall: the step grows to η/(1 − μ) times the gradient "
    "(10× at μ = 0.9), and textbooks that write b = μ·b + (1 − μ)·g take steps 10× smaller.",
    "guide.opt.nesterov": "Nesterov momentum (nesterov = True): the same buffer, but the step looks ahead: "
    "Δθ = η·(g + μ·b). Pitfall: as for momentum, steps about 1/(1 − μ) times plain gradient descent's.",
    "guide.opt.rmsprop": "RMSprop: s = α·s + (1 − α)·g² averages the squared gradient; Δθ = η·g/(√s + ε) "
    "divides each parameter's step by its own gradient scale. Pitfall: s starts at 0, so the first steps "
    "are about η/√(1 − α), ten times η at α = 0.99.",
    "guide.opt.adagrad": "Adagrad: G = G + g² sums every squared gradient; Δθ = η·g/(√G + ε). Pitfall: G "
    "only grows, so the steps shrink for good and training can stall.",
    "guide.opt.adam": "Adam: m = β₁·m + (1 − β₁)·g and v = β₂·v + (1 − β₂)·g², corrected for starting at 0 "
    "(m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ)); Δθ = η·m̂/(√v̂ + ε), ε outside the root. Pitfall: each step is "
    "about η whatever the gradient's size, so η = 0.5 that suits plain descent is far too large here.",
    "guide.opt.adamw": "AdamW: Adam on the plain gradient, and the weights decay directly, first: "
    "the next θ is θ·(1 − η·λ) − Δθ with Adam's Δθ = η·m̂/(√v̂ + ε). Pitfall: λ here is not Adam's L2 "
    "weight_decay; the same number decays the weights far more strongly.",
    "guide.opt.columns": "Optimizer group (its own colour, right of the gradients): per parameter the "
    "state ({states}) and the step Δ; the next row is θ − Δθ. Every hyperparameter is a yellow cell on the "
    "Network sheet.",
}

ZH: dict[str, str] = {
    "group.optimizer": "优化器：状态与步长 Δθ",
    "setting.optimizer": "优化器",
    "setting.momentum": "动量 μ",
    "setting.beta1": "β₁（m 的衰减）",
    "setting.one_minus_beta1": "1 − β₁",
    "setting.beta2": "β₂（v 的衰减）",
    "setting.one_minus_beta2": "1 − β₂",
    "setting.eps": "ε（加在根号外）",
    "setting.alpha": "RMSprop 平滑系数 α",
    "setting.one_minus_alpha": "1 − α",
    "setting.weight_decay": "权重衰减 λ",
    "network.weight_decay_fixed": "0（无权重衰减；在配置中设置 weight_decay 才可编辑）",
    "network.momentum_fixed": "0（RMSprop 不带动量；在配置中设置 momentum 才可编辑）",
    "network.fraction_error": "该值必须在 [0, 1) 之间。",
    "network.positive_error": "该值必须大于 0。",
    "network.nonnegative_error": "该值必须不小于 0。",
    "label.bc1": "1 − β₁ᵗ⁺¹",
    "label.bc2": "1 − β₂ᵗ⁺¹",
    "note.opt.param": "本次迭代使用的参数；下一行减去优化器的步长：",
    "note.opt.bc": "Adam 第 t + 1 次更新的偏差修正（本行的 t 是此前的更新次数）：",
    "note.opt.b": "动量缓冲（torch 的 momentum_buffer，从第一个梯度开始）：",
    "note.opt.b_rms": "RMSprop 的动量缓冲（从 0 开始）：",
    "note.opt.m": "一阶矩 m：梯度的滑动平均（从 0 开始）：",
    "note.opt.v": "二阶矩 v：梯度平方的滑动平均（从 0 开始）：",
    "note.opt.s": "梯度平方的滑动平均 s（从 0 开始）：",
    "note.opt.G": "到目前为止梯度平方之和 G：",
    "note.opt.step": "下一行从参数中减去的步长 Δ：",
    "note.opt.decay": "g = ∂L/∂θ + λ·θ：梯度加上 L2 权重衰减。",
    "note.opt.above": "（上一行）",
    "working.optimizer": "优化器（{optimizer}）：第 1 次更新的状态与步长 Δθ",
    "working.optimizer_update": "更新 θ′ = θ − Δθ：第 2 次迭代的参数",
    "guide.optimizer_heading": "优化器：{optimizer}",
    "sheet.compare_optim": "优化器对比",
    "sheet.map": "决策图",
    "sheet.curve": "拟合曲线",
    "map.title.map": "决策图：第 t 次迭代时网络输出随两个输入的变化",
    "map.title.curve": "拟合曲线：第 t 次迭代时网络输出随输入的变化",
    "map.note.map": "每个单元格是对应 x₁（顶行）和 x₂（左列）的前向传播，使用数据的原始单位和{training}表"
    "第 t 行的参数。改变 t 可以回放训练过程（0、10、100……）；加框的单元格含有数据点。",
    "map.note.classes": "每个单元格是对应 x₁（顶行）和 x₂（左列）的预测类别加上它的概率，"
    "使用{training}表第 t 行的参数：2.87 表示第 2 类、概率 0.87（2.99 表示 0.99 或更高）。"
    "类别是下方各网格中最大的 z，概率是它的 softmax；颜色表示类别，网络越确定颜色越深。"
    "改变 t 可以回放训练过程；加框的单元格含有数据点。",
    "map.z_grid": "{z}（{name}）在上图每个点的值",
    "map.class": "第 {n} 类",
    "map.legend": "类别：",
    "map.note.curve": "每个输出是对应 x 的前向传播，使用{training}表第 t 行的参数；图表把曲线画在数据点上。"
    "改变 t 可以回放训练过程。",
    "map.t": "迭代 t",
    "map.t_error": "t 必须是 0 到 {n} 之间的整数。",
    "map.range": "{x} 从",
    "map.to": "到",
    "map.parameters": "第 t 次迭代的参数",
    "map.corner": "x₂ ↓  x₁ →",
    "map.output": "第 t 次的输出",
    "map.data": "数据",
    "map.curve_chart": "第 t 次迭代的拟合曲线与数据",
    "compare_optim.title": "同一网络用不同优化器训练",
    "compare_optim.note": "数据和初始权重相同；每块是用一个优化器训练的训练表，η 和超参数取自块顶部的"
    "黄色单元格：改动一个，该块重新训练。",
    "compare_optim.optimizer": "优化器",
    "compare_optim.block": "第 {n} 个优化器（共 {total} 个）：{optimizer}",
    "compare_optim.cells": "它的设置 →",
    "compare_optim.chart_title": "各优化器的损失 L（对数坐标）",
    "guide.opt.sgd": "带 L2 权重衰减的普通梯度下降：Δθ = η·(∂L/∂θ + λ·θ)。陷阱：λ 太大时，"
    "所有权重被拉向 0 的速度超过数据的作用。",
    "guide.opt.momentum": "动量法（torch.optim.SGD，momentum = μ）：缓冲 b 累加梯度，b = μ·b + g，"
    "初值 b = g；Δθ = η·b。陷阱：步长会增大到梯度的 η/(1 − μ) 倍（μ = 0.9 时为 10 倍），"
    "而把它写成 b = μ·b + (1 − μ)·g 的教材步长小 10 倍。",
    "guide.opt.nesterov": "Nesterov 动量（nesterov = True）：同一个缓冲，但步长向前看一步："
    "Δθ = η·(g + μ·b)。陷阱：与动量法一样，步长约为普通梯度下降的 1/(1 − μ) 倍。",
    "guide.opt.rmsprop": "RMSprop：s = α·s + (1 − α)·g² 为梯度平方的平均；Δθ = η·g/(√s + ε)，"
    "每个参数的步长除以它自己的梯度尺度。陷阱：s 从 0 开始，最初几步约为 η/√(1 − α)，"
    "α = 0.99 时是 η 的十倍。",
    "guide.opt.adagrad": "Adagrad：G = G + g² 累加所有梯度平方；Δθ = η·g/(√G + ε)。陷阱：G 只增不减，"
    "步长永久变小，训练可能停滞。",
    "guide.opt.adam": "Adam：m = β₁·m + (1 − β₁)·g，v = β₂·v + (1 − β₂)·g²，并修正从 0 开始的偏差"
    "（m̂ = m/(1 − β₁ᵗ)，v̂ = v/(1 − β₂ᵗ)）；Δθ = η·m̂/(√v̂ + ε)，ε 在根号外。陷阱：每一步约为 η，"
    "与梯度大小无关，所以适合普通梯度下降的 η = 0.5 在这里太大了。",
    "guide.opt.adamw": "AdamW：对原始梯度做 Adam，权重先直接衰减：下一行的 θ 为 θ·(1 − η·λ) − Δθ，"
    "其中 Adam 的 Δθ = η·m̂/(√v̂ + ε)。陷阱：这里的 λ 不是 Adam 的 L2 weight_decay，同一个数衰减得强得多。",
    "guide.opt.columns": "优化器组（单独的颜色，在梯度右侧）：每个参数的状态（{states}）和步长 Δ；"
    "下一行为 θ − Δθ。每个超参数都是网络表上的黄色单元格。",
}
