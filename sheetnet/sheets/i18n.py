"""Every word the workbook shows, in English and Chinese. Column ids never change with language."""

from __future__ import annotations

from sheetnet.errors import SheetnetError

LANGUAGES = ("en", "zh")

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "sheet.network": "Network",
        "sheet.training": "Training",
        "sheet.guide": "Guide",
        "guide.subtitle.exercise": "An exercise: work one iteration of backpropagation training of this "
        "neural network by hand, and type your answers into the Exercise sheet.",
        "guide.sheet.network.exercise": "The settings, the training data and the initial weights and "
        "biases: the numbers you start from.",
        "guide.subtitle": "How to read this workbook: a neural network trained by backpropagation, one row "
        "per iteration, every number a live formula you can check by hand.",
        "guide.sheets_heading": "What each sheet shows",
        "guide.sheet.network": "The settings, the training data and the initial weights and biases. Yellow "
        "cells are inputs: edit one and every iteration recomputes.",
        "guide.sheet.training": "One row per iteration t and one column per quantity, grouped by colour: "
        "parameters → forward pass → loss → backward pass → gradients. The next row's parameters are this "
        "row's minus η times the gradients. Each header cell in row 2 has a note with its equation.",
        "guide.sheet.working": "Iteration 1 worked by hand, one quantity per line as a student writes it: "
        "the equation in symbols, the same equation with the numbers, and the value.",
        "guide.sheet.charts": "The loss and each output against its target over the iterations, drawn from "
        "the Training sheet.",
        "guide.sheet.summary": "Selected iterations (t = 0, 1, 2, 5, 10, …), each cell a reference to its "
        "row of the Training sheet.",
        "guide.sheet.compare": "The same training run with several learning rates side by side, and their "
        "loss curves.",
        "guide.network_heading": "The network",
        "guide.numbering": "Neurons are numbered through the network, as in the tutorials: inputs x, then "
        "a. {w} is the weight into neuron {j} from neuron {i}; every neuron is connected to every neuron of "
        "the next layer.",
        "guide.forward_arrow": "Forward pass →   inputs x → weighted sums z → outputs a → loss L",
        "guide.backward_arrow": "← Backward pass   δ = ∂L/∂z, from the loss back to the first layer",
        "guide.input_layer": "input layer",
        "guide.hidden_layer": "hidden layer {l}",
        "guide.output_layer": "output layer",
        "guide.loss_box": "loss",
        "guide.act.sigmoid": "a = σ(z)",
        "guide.act.tanh": "a = tanh(z)",
        "guide.act.relu": "a = max(0, z)",
        "guide.act.linear": "a = z (linear)",
        "guide.chain_heading": "How each column is computed: the chain rule",
        "guide.reading.exercise": "Each row of this table is one step of iteration 1, from the Network "
        "sheet's numbers to the updated weights; the last column shows the equation for this network.",
        "guide.reading": "On the Training sheet each row is one iteration t, read from left to right in the "
        "order of this table: every cell is a formula of the cells to its left and of the row above. Point "
        "at a header cell (row 2) to see its equation; row 3 holds each column's id.",
        "guide.samples": "With {n} samples, z, a and δ are computed for each sample k, and each gradient is "
        "the {how} of δ · a over the samples.",
        "guide.mean": "mean",
        "guide.sum": "sum",
        "guide.col_group": "Column group",
        "guide.col_general": "Equation (j: this neuron, i: a neuron of the layer before)",
        "guide.col_example": "In this network, for example",
        "guide.group.update": "Update: the next row's parameters",
        "guide.eq.param.exercise": "wⱼᵢ and bⱼ, the parameters iteration 1 uses, from the Network sheet",
        "guide.eq.param": "wⱼᵢ and bⱼ, the parameters this row uses; row t = 0 reads them from the Network "
        "sheet",
        "guide.eq.backward": "output layer: δⱼ = ∂L/∂aⱼ · f′(zⱼ)\nhidden layer: δᵢ = (Σⱼ wⱼᵢ·δⱼ) · f′(zᵢ)",
        "guide.eq.update": "wⱼᵢ ← wⱼᵢ − η·∂L/∂wⱼᵢ\n(η: the learning rate)",
        "guide.chain_why": "The chain rule: L depends on {w} only through {z}, so ∂L/∂{w} = ∂L/∂{z} · "
        "∂{z}/∂{w} = {d} · {a}. Each δ is computed once and used by every weight into its neuron; a hidden "
        "neuron's δ gathers the δ of the next layer through the same weights the forward pass used.",
        "guide.derivatives": "Derivatives used:",
        "guide.relu_derivative": "ReLU′(z) = 1 if z > 0, else 0",
        "guide.try_heading": "Three things to try",
        "guide.try_heading.exercise": "How to work the exercise",
        "guide.try.exercise.order": "Work iteration 1 in the order of the table below, from the samples, "
        "weights and biases on the Network sheet: each quantity needs only the ones above it. Type each "
        "answer into its yellow cell on the Exercise sheet.",
        "guide.try.exercise.key": "This file computes nothing, so no cell gives an answer away. The full "
        "workbook of this network (your teacher's key) works iteration 1 line by line on its Working "
        "sheet and carries on for every iteration on its Training sheet.",
        "sheet.exercise": "Exercise",
        "guide.sheet.exercise": "The exercise: iteration 1 by hand, one quantity per row. Type each answer "
        "in its yellow cell.",
        "guide.try.lr": "Raise the learning rate η on the Network sheet (now {lr}) step by step, ×2, ×5, "
        "×10 …, until the loss L on the Training sheet grows instead of shrinking: training diverges. Then "
        "find the largest η that still converges.",
        "guide.try.weight": "Change an initial weight, for example {w} = {value} on the Network sheet, and "
        "watch every row recompute: the first row's z, a and δ change at once, and so does the final loss.",
        "guide.try.hand": "Work row t = 0 by hand, as the Working sheet does, before any update: here "
        "{a} = {value} and L = {loss}. Where your number differs, the note on that column's header "
        "gives the equation to redo.",
        "guide.try.seed": "Compare row t = 0 with the numbers the tutorial prints by hand before any "
        "update: here {a} = {value} and L = {loss}. Where a number differs, the note on that column's "
        "header gives the equation to redo by hand.",
        "note.iter": "Iteration t: the number of updates made before this row. Row t uses the parameters "
        "after t updates; its gradients make row t + 1.",
        "note.param": "Parameter used in this row; its value in the next row:",
        "note.param_fixed": "{b}: a fixed bias (biases are not trained), read from the Network sheet in "
        "every row.",
        "note.first_row": "Row t = 0 reads the initial value from the Network sheet.",
        "note.next_row": " (next row)",
        "note.z": "Weighted input z of neuron {n}{sample} (forward pass):",
        "note.a": "Output a of neuron {n}{sample}, its activation function applied to z:",
        "note.loss": "Loss L of this row's outputs a against the targets t:",
        "note.samples": "k runs over the {n} samples; x and t of sample k are in row k of the data table.",
        "note.of_sample": ", {sample}",
        "note.delta_out": "Error term of output neuron {n}{sample}, δ = ∂L/∂z = ∂L/∂a · f′(z):",
        "note.delta_hidden": "Error term of hidden neuron {n}{sample}: the next layer's δ sent back through "
        "the weights, times f′(z):",
        "note.grad_w": "Gradient of the weight, by the chain rule:",
        "note.grad_b": "Gradient of the bias (∂z/∂b = 1, so it is δ):",
        "note.relu_step": "[1 if {z} > 0, else 0]",
        "print.page": "Page &P of &N",

        "group.iter": "Iteration t (updates so far)",
        "group.param": "Parameters used in this iteration",
        "group.forward": "Forward pass",
        "group.loss": "Loss",
        "group.backward": "Backward pass: δ = ∂L/∂z",
        "group.gradient": "Gradients ∂L/∂θ",
        "label.iter": "t",
        "label.loss": "L",
        "label.correct": "right",
        "label.sample": "sample {k}",
        "label.slot": "slot {k}",
        "label.part": "part {p} of {n}",  # a part of a long sum, a column of its own: z⁽¹⁾[2,3,4] part 1 of 3
        "label.epoch": "epoch",
        "label.sample_no": "sample no.",
        "label.sample_no_slot": "sample{k}",
        "setting.mode": "Samples per update",
        "setting.batch_size": "Samples per row",
        "setting.shuffle": "Shuffle every epoch",
        "setting.seed": "Shuffle seed",
        "note.epoch": "Epoch: one pass over all the samples; each row uses one batch of them.",
        "note.sample": "The number of the sample (its row in the data table on the {network} sheet) "
        "that this slot uses in this row. A constant: the order was drawn when the workbook was built "
        "(shuffle and seed on the {network} sheet); x and t of this slot are looked up with INDEX, so "
        "editing the data table changes every row that uses that sample.",
        "note.batch_samples": "k runs over the {n} samples of this row's batch; the sample columns give "
        "their numbers in the data table.",
        "guide.batches": "Stochastic / mini-batch training: each row uses a batch of {b} of the {n} "
        "samples (their numbers are in the sample columns, on the left), so each update follows the "
        "gradient of that batch only; {e} rows make one epoch.",
        "working.batch": "This iteration's batch: sample {samples} of the data table; a superscript "
        "names the sample: x₁⁽²⁾ is x₁ of sample 2.",
        "setting.learning_rate": "Learning rate η",
        "setting.iterations": "Iterations",
        "setting.sizes": "Layer sizes",
        "setting.activations": "Activations",
        "setting.input_shape": "Input shape",
        "setting.layers": "Layers",
        "network.layers_title": "Layers (input {shape})",
        "network.layer_row": "Layer {l}: {kind}",
        "network.layer_out": "output {shape}",
        "network.parameter": "Layer {l} ({kind}): initial {name}, shape {shape}",
        "network.parameter_block": "{name}[{index}, :, :]",
        "setting.bias": "Bias",
        "setting.train_bias": "Biases trained",
        "setting.loss": "Loss",
        "setting.reduction": "Over samples",
        "setting.leaky_slope": "Leaky ReLU slope α",
        "network.slope_error": "The leaky ReLU slope must be at least 0 and less than 1.",
        "label.accuracy": "accuracy",
        "note.accuracy": "Accuracy: the share of samples the network gets right (a live formula of "
        "the outputs a and the targets t).",
        "note.accuracy_max": "A sample counts as right when its target class has the largest output: "
        "Σⱼ tⱼ over the outputs j where aⱼ = max(a).",
        "note.accuracy_threshold": "A sample counts as right when a ≥ 0.5 and t ≥ 0.5 agree.",
        "note.sample_loss": "Loss of sample {k} alone:",
        "note.sample_correct": "1 when sample {k} is predicted right, else 0; the accuracy is the mean "
        "of these columns.",
        "note.stable": "Computed through z without ln of 0: m = max(z) of the sample, "
        "ln aⱼ = zⱼ − m − ln Σᵢ e^(zᵢ − m).",
        "note.stable_bce": "Computed through z without ln of 0: max(z, 0) − z·t + ln(1 + e^−|z|).",
        "note.softmax": "softmax: e^(zⱼ − m)/Σᵢ e^(zᵢ − m) with m = max(z) of the sample (the same "
        "value as e^zⱼ/Σᵢ e^zᵢ, without overflow).",
        "note.leaky_step": "[1 if {z} > 0, else α]",
        "guide.act.leaky_relu": "a = max(αz, z)",
        "guide.act.softmax": "a = softmax(z)",
        "guide.leaky_derivative": "LeakyReLU′(z) = 1 if z > 0, else α (α = {slope}); ReLU′(0) = 0",
        "guide.cancel.softmax": "Why δ = a − t at the output: with softmax and cross-entropy, "
        "L = −Σⱼ tⱼ·ln aⱼ and ∂aⱼ/∂zᵢ = aⱼ(1[i = j] − aᵢ), so ∂L/∂zᵢ = −Σⱼ tⱼ(1[i = j] − aᵢ) = aᵢ·Σⱼ tⱼ − tᵢ "
        "= aᵢ − tᵢ (the targets sum to 1). The derivative of the activation cancels: no f′(z) column.",
        "guide.cancel.sigmoid": "Why δ = a − t at the output: with a sigmoid and binary cross-entropy, "
        "∂L/∂a = (a − t)/(a(1 − a)) and σ′(z) = a(1 − a), so δ = ∂L/∂a · σ′(z) = a − t. The derivative "
        "of the activation cancels, and the workbook writes δ = a − t directly.",
        "charts.accuracy_title": "Accuracy over the iterations",
        "charts.accuracy_axis": "accuracy",
        "charts.accuracy_series": "accuracy",
        "network.editable": "Yellow cells are inputs: change one and every iteration recomputes.",
        "network.data": "Training data",
        "network.sample": "Sample",
        "network.layer": "Layer {l} ({n_from} → {n_to}, {act}): initial weights w (row = into neuron, "
        "column = from neuron){bias}",
        "network.bias_col": " and biases b",
        "network.into_from": "into ↓ from →",
        "network.bias": "b",
        "network.lr_error": "The learning rate must be a number greater than 0.",
        "setting.standardize": "Inputs standardised",
        "network.mean": "mean μ",
        "network.std": "std. dev. σ (population)",
        "network.standardized_title": "Standardised inputs x̃ = (x − μ)/σ, μ = AVERAGE and σ = STDEVP of the "
        "raw column (below the data): the Training sheet reads these",
        "network.standardized": "x̃ {name}",
        "network.lr_diverged": "If a Training row turns red, training diverged (a number overflowed: "
        "#NUM!): try a smaller η.",
        "sheet.working": "Working",
        "working.title": "Iteration 1 worked by hand",
        "working.note": "One line per quantity, in the order you compute it by hand: the equation in "
        "symbols, the same equation with this iteration's numbers, and the value. Every cell is a formula: "
        "change a yellow cell on the {network} sheet and these lines are rewritten and recomputed.",
        "working.samples": "With several samples, a superscript names the sample: x₁⁽²⁾ is x₁ of sample 2.",
        "working.symbol": "Quantity",
        "working.equation": "In symbols",
        "working.numbers": "With the numbers",
        "working.value": "Value",
        "working.sample": "Sample {k}",
        "working.forward": "Forward pass: weighted sum z, then activation a = f(z)",
        "working.loss": "Loss",
        "working.backward": "Backward pass: δ = ∂L/∂z, from the output layer back",
        "working.gradient": "Gradients ∂L/∂θ",
        "working.update": "Update θ′ = θ − η·∂L/∂θ: the parameters of iteration 2",
        "working.layers_forward": "Forward pass, layer by layer: each quantity from the layer's input",
        "working.layers_backward": "Backward pass, from the loss back to the first layer: δ = ∂L/∂z, and ∂L/∂"
        " of each quantity",
        "working.layers_note": "A superscript after a letter names the layer: z⁽¹⁾[2,1,1] is z[2,1,1] of"
        " layer 1 (indices from 1: [channel, row, column], [step, unit] or [unit]).",
        "working.layers_samples": " A superscript after the indices names the sample: x[1,2]⁽³⁾ is x[1,2] of"
        " sample 3.",
        "working.layers_batch": " This iteration's batch: sample {samples} of the data table; a superscript"
        " after the indices names the sample: x[1,2]⁽³⁾ is x[1,2] of sample 3.",
        "sheet.charts": "Charts",
        "charts.title": "Charts of the training run",
        "charts.note": "The charts plot the Training sheet's formulas: edit a yellow input on the Network "
        "sheet and they redraw.",
        "charts.loss_title": "Loss L over the iterations",
        "charts.loss_log_title": "Loss L over the iterations (log scale)",
        "charts.x_axis": "iteration t",
        "charts.loss_axis": "loss L",
        "charts.loss_series": "loss L",
        "charts.outputs_title": "Outputs and their targets",
        "charts.outputs_title_sample": "Outputs and their targets, sample {k}",
        "charts.output_axis": "output",
        "charts.output_series": "output {a}",
        "charts.target_series": "target {t}",
        "charts.targets_table": "Targets as drawn in the output charts (formulas reading the Network sheet)",
        "charts.epoch_table": "Mean over each epoch (every sample once) of the rows' batch values, as drawn "
        "in the charts: AVERAGEIF over the Training sheet's epoch column",
        "charts.epoch_last_t": "last iteration t",
        "charts.epoch_mean": "mean {q}",
        "charts.epoch_series": "mean over each epoch",
        "charts.more_samples": "Output charts are drawn for the first {n} of the {total} samples.",
        "sheet.summary": "Summary",
        "guide.sheet.layer_maps": "Heat maps at an iteration t you type: the attention weights P and the co"
            "nv feature maps, read live from the Training sheet.",
        "guide.layers_heading": "The layers, forward and backward",
        "guide.layers_intro": "Every number of a layer is a column of the Training sheet: the forward pass "
            "left to right, then the backward pass from the loss back to the first layer, each ∂L/∂ by th"
            "e chain rule, then each parameter's gradient (summed over the row's samples) and the update.",
        "guide.layer_row": "Layer {l}: {kind}, output {shape}",
        "guide.layer.conv2d": "z[c,r,s] = Σ_i Σ_u Σ_v K[c,i,u,v]·x[i,r+u,s+v] + b[c]: the k×k kernel slides"
            " over the image, one output per position; a = f(z).",
        "guide.back.conv2d": "δ = ∂L/∂a·f′(z); ∂L/∂K[c,i,u,v] = Σ_r,s δ[c,r,s]·x[i,r+u,s+v]; ∂L/∂x[i,p,q] ="
            " Σ K[c,i,u,v]·δ[c,p−u,q−v] (the kernel slides back, flipped).",
        "guide.layer.maxpool2d": "a = MAX of each size×size window; m = the position (1, 2, …, row by row) "
            "of the window's first maximum.",
        "guide.back.maxpool2d": "∂L/∂x = ∂L/∂a at the position m of its window, 0 at every other position: "
            "the gradient goes to the winner only.",
        "guide.layer.avgpool2d": "a = the mean of each size×size window.",
        "guide.back.avgpool2d": "∂L/∂x = ∂L/∂a / size² at every position of the window.",
        "guide.layer.flatten": "The same numbers in one column, channel by channel, row by row (torch's ord"
            "er); no columns of its own.",
        "guide.back.flatten": "∂L/∂x: the same numbers back in the input's shape.",
        "guide.layer.dense": "z[j] = Σ_i W[j,i]·x[i] + b[j], a = f(z).",
        "guide.back.dense": "δ = a − t at the output (with softmax and cross-entropy), else ∂L/∂a·f′(z); ∂L"
            "/∂W[j,i] = δ[j]·x[i]; ∂L/∂x[i] = Σ_j W[j,i]·δ[j].",
        "guide.layer.rnn": "z[t,j] = Σ_i Wx[j,i]·x[t,i] + Σ_m Wh[j,m]·h[t−1,m] + b[j], h[t] = f(z[t]), h be"
            "fore the first step is 0; the output is the last h.",
        "guide.back.rnn": "Backpropagation through time: δ[t,j] = (∂L/∂h[t,j] from the next layer at the la"
            "st step, Σ_m Wh[m,j]·δ[t+1,m] before it)·f′(z[t,j]); each step's δ is a cell.",
        "guide.layer.attention": "Q = X·Wqᵀ, K = X·Wkᵀ, V = X·Wvᵀ; S[t,u] = Q[t]·K[u]/√d; P = the softmax o"
            "f each row of S (causal: only u ≤ t); a = P·V.",
        "guide.back.attention": "∂L/∂P = ∂L/∂a·Vᵀ, ∂L/∂V = Pᵀ·∂L/∂a; the row softmax's Jacobian: ∂L/∂S[t,u]"
            " = P[t,u]·(∂L/∂P[t,u] − Σ_w P[t,w]·∂L/∂P[t,w]); then ∂L/∂Q, ∂L/∂K through S.",
        "guide.layer.layernorm": "Over the last axis: μ, σ² (the mean and variance), x̂ = (x − μ)/√(σ² + 0."
            "00001), a = g·x̂ + b.",
        "guide.back.layernorm": "ĝ = ∂L/∂a·g; ∂L/∂x = (ĝ − mean(ĝ) − x̂·mean(ĝ·x̂))/√(σ² + 0.00001); ∂L/∂g "
            "= Σ ∂L/∂a·x̂, ∂L/∂b = Σ ∂L/∂a.",
        "guide.layer.meanpool": "a[j] = the mean over the steps of x[t,j].",
        "guide.back.meanpool": "∂L/∂x[t,j] = ∂L/∂a[j] / T for every step t.",
        "guide.layers_check": "sheetnet check recomputes every cell (in Python, LibreOffice and Gnumeric) a"
            "nd compares it with an independent NumPy computation of the same network.",
        "guide.draw.t": "Drawings below at iteration t =",
        "guide.draw.channel": "Channel c",
        "guide.draw.row": "Output row r",
        "guide.draw.column": "Output column s",
        "guide.draw.x": "x[{i}] (sample 1); orange: the window of (r, s)",
        "guide.draw.kernel": "K[c,{i}] at t",
        "guide.draw.zmap": "z[c] at t; orange: (r, s)",
        "guide.draw.bias": "b[c] at t",
        "guide.draw.zsum": "Σ K·x + b =",
        "guide.draw.pool_in": "Input of channel {c} at t, its windows outlined",
        "guide.draw.pool_out": "Output a[{c}]",
        "guide.draw.argmax": "m: where the maximum is (marked in orange)",
        "guide.draw.query": "Row q",
        "guide.draw.p": "P at t (sample 1): row q's weights on each step u",
        "guide.draw.p_causal": "P at t (sample 1); grey: masked (causal, u > q)",
        "guide.draw.s": "S = Q·Kᵀ/√{d} at t",
        "guide.draw.exp": "e^(S − max)",
        "guide.draw.softmax": "P = e / Σ e",
        "guide.draw.key": "Column u",
        "guide.draw.q_row": "Q[q,·] at t",
        "guide.draw.k_row": "K[u,·] at t",
        "guide.draw.score": "S[q,u] = Q·K/√d =",
        "guide.draw.rnn": "Unrolled over the steps at t (sample 1): h₀ = 0 → h₁ → …, each x feeds in (↓); "
            "backpropagation through time sends δ back (←).",
        "guide.draw.step": "Step",
        "guide.draw.bptt": "BPTT",
        "guide.draw.rnn_step": "Step τ",
        "guide.draw.rnn_unit": "Unit j",
        "guide.draw.wx": "Wx[j,·] at t",
        "guide.draw.wh": "Wh[j,·] at t",
        "guide.draw.rnn_bias": "b[j] at t",
        "guide.draw.rnn_z": "z[τ,j] =",
        "guide.draw.rnn_h": "h[τ,j] = {f}(z) =",
        "sheet.layer_maps": "Maps",
        "maps.title": "Heat maps at iteration t (sample 1)",
        "maps.note": "Type an iteration t in the yellow cell: every map reads that row of the Training "
                     "sheet.",
        "maps.t": "Iteration t",
        "maps.attention": "Layer {l} (attention): P[t, u], the weight step t (row) gives step u (column)",
        "maps.feature": "Layer {l} (conv2d): feature map a[{c}, r, s] of channel {c}",
        "summary.title": "Summary: selected iterations",
        "summary.rows": "Rows t = 0, 1, 2, 5, 10, 20, 50, … (steps of 1-2-5), every {kth} iteration and "
        "the last.",
        "summary.live": "Each cell refers to its row on the Training sheet, so it stays live.",
        "summary.outputs": "Outputs",
        "summary.target": "target t",
        "sheet.compare": "Learning rates",
        "compare.title": "The same network trained with each learning rate",
        "compare.note": "Yellow cells are the learning rates: edit one and its block trains again. Each "
        "block has every column of the Training sheet; rows are the same iterations.",
        "compare.curve": "curve",
        "compare.rate": "η",
        "compare.final": "L at t = {n}",
        "compare.series": "η = ",
        "compare.rate_label": "η =",
        "compare.block": "Learning rate {n} of {total}: the Training sheet's columns, trained with this η",
        "compare.chart_title": "Loss L for each learning rate",
        "compare.chart_log_title": "Loss L for each learning rate (log scale)",
    },
    "zh": {
        "sheet.network": "网络",
        "sheet.training": "训练",
        "sheet.guide": "说明",
        "guide.subtitle.exercise": "练习：手算这个神经网络反向传播的一次迭代，并把答案填进练习表。",
        "guide.sheet.network.exercise": "网络的设置、训练数据以及初始权重和偏置：你计算的起点。",
        "guide.subtitle": "如何阅读本工作簿：用反向传播训练一个神经网络，每次迭代一行，"
        "每个数字都是可以手算核对的实时公式。",
        "guide.sheets_heading": "各工作表的内容",
        "guide.sheet.network": "网络的设置、训练数据以及初始权重和偏置。黄色单元格是输入：改动任意一个，"
        "所有迭代都会重新计算。",
        "guide.sheet.training": "每次迭代 t 一行，每个量一列，按颜色分组：参数 → 前向传播 → 损失 → 反向传播 "
        "→ 梯度。下一行的参数等于本行参数减去 η 乘以梯度。第 2 行的每个表头单元格都带有写着其公式的批注。",
        "guide.sheet.working": "像学生手算一样把第 1 次迭代逐行写出：每行一个量，"
        "依次是符号公式、代入数字的公式和结果。",
        "guide.sheet.charts": "损失以及每个输出与其目标值随迭代的变化，数据取自训练表。",
        "guide.sheet.summary": "选取的迭代（t = 0、1、2、5、10……），每个单元格都引用训练表中对应的行。",
        "guide.sheet.compare": "同一次训练用几个不同的学习率并排进行，以及它们的损失曲线。",
        "guide.network_heading": "网络结构",
        "guide.numbering": "与教程相同，节点在整个网络中连续编号：先是输入 x，然后是 a。{w} "
        "表示从节点{i}到节点{j}的权重；每个节点都与下一层的每个节点相连。",
        "guide.forward_arrow": "前向传播 →   输入 x → 加权求和 z → 输出 a → 损失 L",
        "guide.backward_arrow": "← 反向传播   δ = ∂L/∂z，从损失一直传回第一层",
        "guide.input_layer": "输入层",
        "guide.hidden_layer": "隐藏层 {l}",
        "guide.output_layer": "输出层",
        "guide.loss_box": "损失",
        "guide.act.sigmoid": "a = σ(z)",
        "guide.act.tanh": "a = tanh(z)",
        "guide.act.relu": "a = max(0, z)",
        "guide.act.linear": "a = z（线性）",
        "guide.chain_heading": "每一列如何计算：链式法则",
        "guide.reading.exercise": "下表每一行是第 1 次迭代的一步，从网络表中的数字一直算到更新后的权重；"
        "最后一列给出本网络的公式。",
        "guide.reading": "训练表中每一行是一次迭代 t，按本表的顺序从左到右阅读：每个单元格都是公式，"
        "只用到它左边和上一行的单元格。把鼠标移到表头单元格（第 2 行）上可以看到它的公式；第 3 "
        "行是每一列的编号。",
        "guide.samples": "共有 {n} 个样本时，z、a 和 δ 对每个样本 k 分别计算，每个梯度是各样本 δ · a "
        "的{how}。",
        "guide.mean": "平均值",
        "guide.sum": "总和",
        "guide.col_group": "列组",
        "guide.col_general": "公式（j：本节点，i：上一层的节点）",
        "guide.col_example": "本网络中的例子",
        "guide.group.update": "更新：下一行的参数",
        "guide.eq.param.exercise": "wⱼᵢ 和 bⱼ：第 1 次迭代使用的参数，取自网络表",
        "guide.eq.param": "wⱼᵢ 和 bⱼ：本行使用的参数；第 t = 0 行取自网络表",
        "guide.eq.backward": "输出层：δⱼ = ∂L/∂aⱼ · f′(zⱼ)\n隐藏层：δᵢ = (Σⱼ wⱼᵢ·δⱼ) · f′(zᵢ)",
        "guide.eq.update": "wⱼᵢ ← wⱼᵢ − η·∂L/∂wⱼᵢ\n（η：学习率）",
        "guide.chain_why": "链式法则：L 只通过 {z} 依赖于 {w}，所以 ∂L/∂{w} = ∂L/∂{z} · ∂{z}/∂{w} = {d} · "
        "{a}。每个 δ 只算一次，流入该节点的所有权重都用它；隐藏节点的 δ "
        "沿前向传播用过的同一组权重汇集下一层的 δ。",
        "guide.derivatives": "用到的导数：",
        "guide.relu_derivative": "ReLU′(z) = 1（z > 0 时），否则为 0",
        "guide.try_heading": "动手试三件事",
        "guide.try_heading.exercise": "如何做练习",
        "guide.try.exercise.order": "按下表的顺序，从网络表中的样本、权重和偏置出发手算第 1 次迭代：每个量只"
        "需要它上面的量。把每个答案填进练习表中它的黄色单元格。",
        "guide.try.exercise.key": "本文件不做任何计算，因此没有单元格会泄露答案。这个网络的完整工作簿（老师"
        "的答案）在演算表中逐行算出第 1 次迭代，并在训练表中继续算出每一次迭代。",
        "sheet.exercise": "练习",
        "guide.sheet.exercise": "练习：手算第 1 次迭代，每行一个量。把每个答案填进它的黄色单元格。",
        "guide.try.lr": "在网络表中逐步增大学习率 η（当前为 {lr}），×2、×5、×10……，直到训练表中的损失 L "
        "不降反升：训练发散了。再找出仍能收敛的最大 η。",
        "guide.try.weight": "修改一个初始权重，例如网络表中的 {w} = {value}，观察每一行重新计算：第一行的 "
        "z、a、δ 立刻改变，最终的损失也随之改变。",
        "guide.try.hand": "在任何更新之前，像演算表那样手算第 t = 0 行：这里 {a} = {value}，L = {loss}。"
        "若你的数字不同，该列表头的批注给出了可以重算的公式。",
        "guide.try.seed": "把第 t = 0 行与教程在更新之前手算打印的数字对比：这里 {a} = {value}，L = {loss}。"
        "若有数字不同，该列表头的批注给出了可以手算复核的公式。",
        "note.iter": "迭代 t：本行之前已完成的更新次数。第 t 行使用 t 次更新后的参数，它的梯度给出第 t + 1 "
        "行。",
        "note.param": "本行使用的参数；它在下一行的值：",
        "note.param_fixed": "{b}：固定的偏置（偏置不参与训练），每一行都取自网络表。",
        "note.first_row": "第 t = 0 行取网络表中的初始值。",
        "note.next_row": "（下一行）",
        "note.z": "节点{n}{sample}的加权输入 z（前向传播）：",
        "note.a": "节点{n}{sample}的输出 a，即对 z 应用激活函数：",
        "note.loss": "本行输出 a 与目标值 t 之间的损失 L：",
        "note.samples": "k 遍历全部 {n} 个样本；样本 k 的 x 和 t 在数据表的第 k 行。",
        "note.of_sample": "（{sample}）",
        "note.delta_out": "输出节点{n}{sample}的误差项，δ = ∂L/∂z = ∂L/∂a · f′(z)：",
        "note.delta_hidden": "隐藏节点{n}{sample}的误差项：下一层的 δ 经权重传回，再乘以 f′(z)：",
        "note.grad_w": "权重的梯度，由链式法则：",
        "note.grad_b": "偏置的梯度（∂z/∂b = 1，所以就是 δ）：",
        "note.relu_step": "[{z} > 0 时为 1，否则为 0]",
        "print.page": "第 &P 页，共 &N 页",

        "group.iter": "迭代 t（已更新次数）",
        "group.param": "本次迭代使用的参数",
        "group.forward": "前向传播",
        "group.loss": "损失",
        "group.backward": "反向传播：δ = ∂L/∂z",
        "group.gradient": "梯度 ∂L/∂θ",
        "label.iter": "t",
        "label.loss": "L",
        "label.correct": "正确",
        "label.sample": "样本{k}",
        "label.slot": "槽{k}",
        "label.part": "第{p}/{n}部分",
        "label.epoch": "轮次",
        "label.sample_no": "样本编号",
        "label.sample_no_slot": "样本{k}",
        "setting.mode": "每次更新的样本",
        "setting.batch_size": "批大小（每行样本数）",
        "setting.shuffle": "每轮打乱样本顺序",
        "setting.seed": "打乱顺序的随机种子",
        "note.epoch": "轮次：把全部样本用过一遍；每一行使用其中的一批。",
        "note.sample": "本行这个槽使用的样本编号（即{network}表数据表中的行）。它是常数：顺序在生成工作簿时"
        "抽定（见{network}表的打乱设置和种子）；本槽的 x 和 t 用 INDEX 从数据表中查出，所以修改数据表会"
        "改变所有用到该样本的行。",
        "note.batch_samples": "k 遍历本行这一批的 {n} 个样本；样本编号列给出它们在数据表中的编号。",
        "guide.batches": "随机 / 小批量训练：每一行只使用 {n} 个样本中的一批 {b} 个"
        "（编号见左侧的样本编号列），"
        "所以每次更新只沿这一批的梯度方向；{e} 行为一轮。",
        "working.batch": "本次迭代的一批：数据表中的样本 {samples}；"
        "上标表示样本编号：x₁⁽²⁾ 是样本2的 x₁。",
        "setting.learning_rate": "学习率 η",
        "setting.iterations": "迭代次数",
        "setting.sizes": "各层神经元数",
        "setting.activations": "激活函数",
        "setting.input_shape": "输入形状",
        "setting.layers": "各层",
        "network.layers_title": "各层（输入 {shape}）",
        "network.layer_row": "第{l}层：{kind}",
        "network.layer_out": "输出 {shape}",
        "network.parameter": "第{l}层（{kind}）：初始 {name}，形状 {shape}",
        "network.parameter_block": "{name}[{index}, :, :]",
        "setting.bias": "偏置",
        "setting.train_bias": "偏置参与训练",
        "setting.loss": "损失函数",
        "setting.reduction": "多个样本时",
        "setting.leaky_slope": "Leaky ReLU 斜率 α",
        "network.slope_error": "Leaky ReLU 的斜率必须不小于 0 且小于 1。",
        "label.accuracy": "准确率",
        "note.accuracy": "准确率：网络判断正确的样本所占的比例（由输出 a 和目标 t 实时计算的公式）。",
        "note.accuracy_max": "目标类别的输出最大时，该样本算判断正确：对 aⱼ = max(a) 的输出 j 求 Σⱼ tⱼ。",
        "note.accuracy_threshold": "a ≥ 0.5 与 t ≥ 0.5 一致时，该样本算判断正确。",
        "note.sample_loss": "样本{k}单独的损失：",
        "note.sample_correct": "样本{k}预测正确时为 1，否则为 0；准确率是这些列的平均值。",
        "note.stable": "通过 z 计算，不会出现 ln 0：m = 该样本 z 的最大值，"
        "ln aⱼ = zⱼ − m − ln Σᵢ e^(zᵢ − m)。",
        "note.stable_bce": "通过 z 计算，不会出现 ln 0：max(z, 0) − z·t + ln(1 + e^−|z|)。",
        "note.softmax": "softmax：e^(zⱼ − m)/Σᵢ e^(zᵢ − m)，m = 该样本 z 的最大值（与 e^zⱼ/Σᵢ e^zᵢ "
        "相等，但不会溢出）。",
        "note.leaky_step": "[{z} > 0 时为 1，否则为 α]",
        "guide.act.leaky_relu": "a = max(αz, z)",
        "guide.act.softmax": "a = softmax(z)",
        "guide.leaky_derivative": "LeakyReLU′(z) = 1（z > 0 时），否则为 α（α = {slope}）；ReLU′(0) = 0",
        "guide.cancel.softmax": "为什么输出层 δ = a − t：softmax 加交叉熵时，L = −Σⱼ tⱼ·ln aⱼ，"
        "∂aⱼ/∂zᵢ = aⱼ(1[i = j] − aᵢ)，所以 ∂L/∂zᵢ = −Σⱼ tⱼ(1[i = j] − aᵢ) = aᵢ·Σⱼ tⱼ − tᵢ = aᵢ − tᵢ"
        "（目标之和为 1）。激活函数的导数被约掉了：没有 f′(z) 这一项。",
        "guide.cancel.sigmoid": "为什么输出层 δ = a − t：σ 输出加二元交叉熵时，"
        "∂L/∂a = (a − t)/(a(1 − a))，而 σ′(z) = a(1 − a)，所以 δ = ∂L/∂a · σ′(z) = a − t。"
        "激活函数的导数被约掉了，工作簿直接写 δ = a − t。",
        "charts.accuracy_title": "准确率随迭代的变化",
        "charts.accuracy_axis": "准确率",
        "charts.accuracy_series": "准确率",
        "network.editable": "黄色单元格是输入：改动任意一个，所有迭代都会重新计算。",
        "network.data": "训练数据",
        "network.sample": "样本",
        "network.layer": "第{l}层（{n_from} → {n_to}，{act}）：初始权重 w（行 = 流入的神经元，"
        "列 = 来自的神经元）{bias}",
        "network.bias_col": "及偏置 b",
        "network.into_from": "流入 ↓ 来自 →",
        "network.bias": "b",
        "network.lr_error": "学习率必须是大于 0 的数。",
        "setting.standardize": "输入已标准化",
        "network.mean": "均值 μ",
        "network.std": "标准差 σ（总体）",
        "network.standardized_title": "标准化的输入 x̃ = (x − μ)/σ，μ = AVERAGE、σ = STDEVP"
        "（原始数据列，见数据下方）：训练表读取这些值",
        "network.standardized": "x̃ {name}",
        "network.lr_diverged": "如果训练表中某一行变红，说明训练发散了（数值溢出：#NUM!）：请减小 η。",
        "sheet.working": "演算",
        "working.title": "手算第 1 次迭代",
        "working.note": "每行一个量，按手算的顺序排列：符号公式、代入本次迭代数值的算式、结果。"
        "每个单元格都是公式：改动「{network}」表中的黄色单元格，这里的算式和结果随之改写、重算。",
        "working.samples": "有多个样本时，上标表示样本编号：x₁⁽²⁾ 是样本2的 x₁。",
        "working.symbol": "量",
        "working.equation": "符号公式",
        "working.numbers": "代入数值",
        "working.value": "结果",
        "working.sample": "样本{k}",
        "working.forward": "前向传播：先加权求和得 z，再经激活函数得 a = f(z)",
        "working.loss": "损失",
        "working.backward": "反向传播：δ = ∂L/∂z，从输出层往回算",
        "working.gradient": "梯度 ∂L/∂θ",
        "working.update": "参数更新 θ′ = θ − η·∂L/∂θ：第 2 次迭代使用的参数",
        "working.layers_forward": "前向传播，逐层计算：每个量都由本层的输入算出",
        "working.layers_backward": "反向传播，从损失回到第一层：δ = ∂L/∂z，以及每个量的 ∂L/∂",
        "working.layers_note": "字母后的上标表示层号：z⁽¹⁾[2,1,1] 是第1层的 z[2,1,1]"
        "（下标从 1 起：[通道, 行, 列]、[步, 单元] 或 [单元]）。",
        "working.layers_samples": "方括号后的上标表示样本编号：x[1,2]⁽³⁾ 是样本3的 x[1,2]。",
        "working.layers_batch": "本次迭代的一批：数据表中的样本 {samples}；"
        "方括号后的上标表示样本编号：x[1,2]⁽³⁾ 是样本3的 x[1,2]。",
        "sheet.charts": "图表",
        "charts.title": "训练过程图表",
        "charts.note": "图表绘制的是训练表中的公式：改动网络表中的黄色输入，图表随之重绘。",
        "charts.loss_title": "损失 L 随迭代的变化",
        "charts.loss_log_title": "损失 L 随迭代的变化（对数坐标）",
        "charts.x_axis": "迭代 t",
        "charts.loss_axis": "损失 L",
        "charts.loss_series": "损失 L",
        "charts.outputs_title": "输出与目标",
        "charts.outputs_title_sample": "输出与目标（样本{k}）",
        "charts.output_axis": "输出",
        "charts.output_series": "输出 {a}",
        "charts.target_series": "目标 {t}",
        "charts.targets_table": "输出图中的目标线（公式取自网络表）",
        "charts.epoch_table": "每轮（每个样本各一次）各行批次数值的平均，即图中所画："
        "对训练表轮次一列使用 AVERAGEIF",
        "charts.epoch_last_t": "该轮最后一次迭代 t",
        "charts.epoch_mean": "平均{q}",
        "charts.epoch_series": "每轮平均",
        "charts.more_samples": "共 {total} 个样本，只绘制前 {n} 个样本的输出图。",
        "sheet.summary": "摘要",
        "guide.sheet.layer_maps": "在你输入的第 t 次迭代处的热图：注意力权重 P 和卷积特征图，实时读取"
            "训练表。",
        "guide.layers_heading": "各层：前向与反向",
        "guide.layers_intro": "每一层的每个数都是训练表的一列：前向传播从左到右，然后反向传播从损失回到第一"
            "层，每个 ∂L/∂ 都由链式法则得到，再是每个参数的梯度（对该行的样本求和）和更新。",
        "guide.layer_row": "第{l}层：{kind}，输出 {shape}",
        "guide.layer.conv2d": "z[c,r,s] = Σ_i Σ_u Σ_v K[c,i,u,v]·x[i,"
            "r+u,s+v] + b[c]：k×k 卷积核在图像上滑动，每个位置一个输出；a = f"
            "(z)。",
        "guide.back.conv2d": "δ = ∂L/∂a·f′(z)；∂L/∂K[c,i,u,v] = Σ_r,s"
            " δ[c,r,s]·x[i,r+u,s+v]；∂L/∂x[i,p,q] = Σ K[c,"
            "i,u,v]·δ[c,p−u,q−v]（卷积核翻转后反向滑动）。",
        "guide.layer.maxpool2d": "a = 每个 size×size 窗口的最大值；m = 窗口中第一个最大"
            "值的位置（1, 2, …，逐行）。",
        "guide.back.maxpool2d": "∂L/∂x 在窗口的位置 m 处等于 ∂L/∂a，其余位置为 0：梯度只流"
            "向最大值。",
        "guide.layer.avgpool2d": "a = 每个 size×size 窗口的平均值。",
        "guide.back.avgpool2d": "窗口中每个位置的 ∂L/∂x = ∂L/∂a / size²。",
        "guide.layer.flatten": "把同样的数排成一列，按通道、逐行（torch 的顺序）；本层没有自己的列。",
        "guide.back.flatten": "∂L/∂x：同样的数，恢复成输入的形状。",
        "guide.layer.dense": "z[j] = Σ_i W[j,i]·x[i] + b[j]，a = f(z)"
            "。",
        "guide.back.dense": "输出层 δ = a − t（softmax 配交叉熵），否则 ∂L/∂a·f′"
            "(z)；∂L/∂W[j,i] = δ[j]·x[i]；∂L/∂x[i] = Σ_j W["
            "j,i]·δ[j]。",
        "guide.layer.rnn": "z[t,j] = Σ_i Wx[j,i]·x[t,i] + Σ_m Wh[j,"
            "m]·h[t−1,m] + b[j]，h[t] = f(z[t])，第一步之前 h 为 "
            "0；输出是最后一个 h。",
        "guide.back.rnn": "随时间反向传播：δ[t,j] = （最后一步取下一层给的 ∂L/∂h[t,j]，"
            "之前各步取 Σ_m Wh[m,j]·δ[t+1,m]）·f′(z[t,j])；每一步的 "
            "δ 都是一个单元格。",
        "guide.layer.attention": "Q = X·Wqᵀ，K = X·Wkᵀ，V = X·Wvᵀ；S[t,u]"
            " = Q[t]·K[u]/√d；P = S 每一行的 softmax（因果：只取 u ≤"
            " t）；a = P·V。",
        "guide.back.attention": "∂L/∂P = ∂L/∂a·Vᵀ，∂L/∂V = Pᵀ·∂L/∂a；行 s"
            "oftmax 的雅可比：∂L/∂S[t,u] = P[t,u]·(∂L/∂P[t,u] "
            "− Σ_w P[t,w]·∂L/∂P[t,w])；再经 S 得到 ∂L/∂Q、∂L/∂K"
            "。",
        "guide.layer.layernorm": "沿最后一个轴：μ、σ²（均值和方差），x̂ = (x − μ)/√(σ²"
            " + 0.00001)，a = g·x̂ + b。",
        "guide.back.layernorm": "ĝ = ∂L/∂a·g；∂L/∂x = (ĝ − ĝ 的均值 − x̂·("
            "ĝ·x̂ 的均值))/√(σ² + 0.00001)；∂L/∂g = Σ ∂L/∂a·x"
            "̂，∂L/∂b = Σ ∂L/∂a。",
        "guide.layer.meanpool": "a[j] = x[t,j] 对所有步的平均值。",
        "guide.back.meanpool": "对每一步 t，∂L/∂x[t,j] = ∂L/∂a[j] / T。",
        "guide.layers_check": "sheetnet check 重新计算每个单元格（用 Python、Libr"
            "eOffice 和 Gnumeric），并与对同一网络的独立 NumPy 计算逐一比较。",
        "guide.draw.t": "下面的图：第 t 次迭代，t =",
        "guide.draw.channel": "通道 c",
        "guide.draw.row": "输出行 r",
        "guide.draw.column": "输出列 s",
        "guide.draw.x": "x[{i}]（样本 1）；橙色：(r, s) 的窗口",
        "guide.draw.kernel": "第 t 次的 K[c,{i}]",
        "guide.draw.zmap": "第 t 次的 z[c]；橙色：(r, s)",
        "guide.draw.bias": "第 t 次的 b[c]",
        "guide.draw.zsum": "Σ K·x + b =",
        "guide.draw.pool_in": "第 t 次通道 {c} 的输入，框出各窗口",
        "guide.draw.pool_out": "输出 a[{c}]",
        "guide.draw.argmax": "m：最大值的位置（橙色标出）",
        "guide.draw.query": "行 q",
        "guide.draw.p": "第 t 次的 P（样本 1）：第 q 行给每一步 u 的权重",
        "guide.draw.p_causal": "第 t 次的 P（样本 1）；灰色：被遮住（因果，u > q）",
        "guide.draw.s": "第 t 次的 S = Q·Kᵀ/√{d}",
        "guide.draw.exp": "e^(S − max)",
        "guide.draw.softmax": "P = e / Σ e",
        "guide.draw.key": "列 u",
        "guide.draw.q_row": "第 t 次的 Q[q,·]",
        "guide.draw.k_row": "第 t 次的 K[u,·]",
        "guide.draw.score": "S[q,u] = Q·K/√d =",
        "guide.draw.rnn": "第 t 次按时间步展开（样本 1）：h₀ = 0 → h₁ → …，每个 x 从上方输入（↓）；"
            "随时间反向传播把 δ 往回传（←）。",
        "guide.draw.step": "时间步",
        "guide.draw.bptt": "BPTT",
        "guide.draw.rnn_step": "时间步 τ",
        "guide.draw.rnn_unit": "单元 j",
        "guide.draw.wx": "第 t 次的 Wx[j,·]",
        "guide.draw.wh": "第 t 次的 Wh[j,·]",
        "guide.draw.rnn_bias": "第 t 次的 b[j]",
        "guide.draw.rnn_z": "z[τ,j] =",
        "guide.draw.rnn_h": "h[τ,j] = {f}(z) =",
        "sheet.layer_maps": "热图",
        "maps.title": "第 t 次迭代的热图（样本 1）",
        "maps.note": "在黄色单元格里输入迭代次数 t：每张热图都读取训练表的那一行。",
        "maps.t": "迭代 t",
        "maps.attention": "第{l}层（attention）：P[t, u]，第 t 步（行）给第 u 步（列）的权重",
        "maps.feature": "第{l}层（conv2d）：通道 {c} 的特征图 a[{c}, r, s]",
        "summary.title": "摘要：选取的迭代",
        "summary.rows": "行 t = 0、1、2、5、10、20、50……（1-2-5 序列）、每 {k} 次迭代一行以及最后一次。",
        "summary.live": "每个单元格都引用训练表中对应的行，所以随输入实时更新。",
        "summary.outputs": "输出",
        "summary.target": "目标 t",
        "sheet.compare": "学习率对比",
        "compare.title": "同一网络用不同学习率训练",
        "compare.note": "黄色单元格是学习率：改动一个，该块重新训练。"
        "每块包含训练表的全部列，各块的行是相同的迭代。",
        "compare.curve": "曲线",
        "compare.rate": "η",
        "compare.final": "t = {n} 时的 L",
        "compare.series": "η = ",
        "compare.rate_label": "η =",
        "compare.block": "第 {n} 个学习率（共 {total} 个）：训练表的各列，用这个 η 训练",
        "compare.chart_title": "各学习率下的损失 L",
        "compare.chart_log_title": "各学习率下的损失 L（对数坐标）",
    },
}


# The spec's own words for its settings (per-neuron, true, mean, half_sse …) stay on the Network
# sheet as the spec spells them, since the check reads them back; in Chinese a gloss stands beside.
VALUE_GLOSSES: dict[str, dict[str, str]] = {
    "zh": {
        "none": "无偏置", "shared": "每层共用一个偏置", "per-neuron": "每个神经元一个偏置",
        "true": "是", "false": "否",
        "mean": "取平均", "sum": "求和",
        "half_sse": "误差平方和的一半", "sse": "误差平方和", "mse": "均方误差",
        "cross_entropy": "交叉熵", "binary_cross_entropy": "二元交叉熵",
        "batch": "全部样本", "sgd": "每次一个样本", "minibatch": "小批量",
        "linear": "线性", "sigmoid": "S 型函数", "tanh": "双曲正切", "relu": "线性整流",
        "leaky_relu": "带泄漏线性整流", "softmax": "归一化指数",
    },
}


def gloss(lang: str, value: object) -> str | None:
    """The words for a setting's value in `lang` (sigmoid, tanh → S 型函数、双曲正切), or None."""
    glosses = VALUE_GLOSSES.get(lang, {})
    if not isinstance(value, str) or not value:
        return None
    parts = [glosses.get(part.strip()) for part in value.split(",")]
    return "、".join(p for p in parts if p) if all(parts) else None


def strings(lang: str) -> dict[str, str]:
    if lang not in STRINGS:
        raise SheetnetError(f"unknown language {lang!r}; expected one of: {', '.join(LANGUAGES)}")
    return STRINGS[lang]


def sheet_names(key: str) -> list[str]:
    """A sheet's name in every language (the check accepts a workbook in any of them)."""
    return [STRINGS[lang][key] for lang in LANGUAGES]


def _merge_optimizer_words() -> None:
    """The optimizers' words live in their own module; every language gets its table."""
    from sheetnet.sheets import optimizer_words

    STRINGS["en"].update(optimizer_words.EN)
    STRINGS["zh"].update(optimizer_words.ZH)


_merge_optimizer_words()
