"""Regenerate the pictures of docs/workbook.md and the READMEs: LibreOffice prints a workbook.

Run from the top of the repository: `python docs/render.py` (needs LibreOffice and poppler's
pdftoppm/pdftotext). Writes docs/img/{en,zh}-{guide,training,working,charts}.png from the
default template, docs/img/iris-{network,charts}.png from the iris template (minibatches),
docs/img/optimizers.png (xor trained by sgd, momentum and adam) and docs/img/xor-map-{0,end}.png
(xor's decision map at t = 0 and after the last update), docs/img/softmax-map.png (a three-class
softmax classifier's map after training), docs/img/cnn-working.png (the cnn-stripes template's
Working sheet: iteration 1 layer by layer), docs/img/{en,zh}-guide-{cnn-stripes,rnn-sequence,
attention-marker}.png (the Guide's live drawings of each layered template).
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import openpyxl

from sheetnet.engines.libreoffice import to_pdf
from sheetnet.model.spec import load_template, parse_spec
from sheetnet.sheets.context import BuildOptions
from sheetnet.sheets.i18n import STRINGS
from sheetnet.sheets.writer import build_workbook

OUT = Path(__file__).parent / "img"
SHEETS = ("guide", "training", "working", "charts")
DPI = 80
# The Training sheet prints small (many columns); show its top-left corner at a readable size.
CROPS = {"training": ["-r", "130", "-W", "1400", "-H", "560"]}


def page_texts(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    return text.split("\f")


def first_page_of(sheet_name: str, pages: list[str]) -> int:
    """The first page whose running header (title left, sheet name right) names the sheet."""
    for number, text in enumerate(pages, start=1):
        lines = [line for line in text.splitlines() if line.strip()]
        if lines and lines[0].rstrip().endswith(sheet_name):
            return number
    raise LookupError(f"no page of sheet {sheet_name!r}")


def render(lang: str, work: Path) -> None:
    spec = load_template("seed-004-2-2-2").replace(iterations=40)
    xlsx = build_workbook(spec, work / f"{lang}.xlsx", options=BuildOptions(lang=lang))
    pdf = to_pdf(xlsx, work / f"{lang}.pdf")
    pages = page_texts(pdf)
    for sheet in SHEETS:
        page = first_page_of(STRINGS[lang][f"sheet.{sheet}"], pages)
        target = OUT / f"{lang}-{sheet}"
        size = CROPS.get(sheet, ["-r", str(DPI)])
        subprocess.run(["pdftoppm", "-png", *size, "-f", str(page), "-l", str(page),
                        "-singlefile", str(pdf), str(target)], check=True)
        print(f"{target}.png  (page {page})")


def render_iris(work: Path) -> None:
    """The standardised CSV data on the Network sheet and the per-epoch means on the Charts sheet."""
    xlsx = build_workbook(load_template("iris"), work / "iris.xlsx")
    pdf = to_pdf(xlsx, work / "iris.pdf")
    pages = page_texts(pdf)
    for sheet in ("network", "charts"):
        page = first_page_of(STRINGS["en"][f"sheet.{sheet}"], pages)
        target = OUT / f"iris-{sheet}"
        subprocess.run(["pdftoppm", "-png", "-r", str(DPI), "-f", str(page), "-l", str(page),
                        "-singlefile", str(pdf), str(target)], check=True)
        print(f"{target}.png  (page {page})")


def crop(pdf: Path, page: int, target: Path, box: tuple[int, int, int, int], dpi: int = 100) -> None:
    """Cut (x, y, width, height) pixels at `dpi` out of a page."""
    x, y, w, h = box
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-x", str(x), "-y", str(y), "-W", str(w), "-H",
                    str(h), "-f", str(page), "-l", str(page), "-singlefile", str(pdf), str(target)],
                   check=True)
    print(f"{target}.png  (page {page})")


def render_optimizers(work: Path) -> None:
    """xor trained by three optimizers side by side, and its decision map at t = 0 and at the end."""
    spec = load_template("xor").replace(iterations=400, learning_rate=0.1, optimizer="adam")
    options = BuildOptions(compare_optim=("sgd", "momentum", "adam"), decision_map=30)
    xlsx = build_workbook(spec, work / "xor.xlsx", options=options)
    pdf = to_pdf(xlsx, work / "xor.pdf")
    pages = page_texts(pdf)
    crop(pdf, first_page_of(STRINGS["en"]["sheet.compare_optim"], pages), OUT / "optimizers",
         (470, 130, 600, 290), dpi=200)
    crop(pdf, first_page_of(STRINGS["en"]["sheet.map"], pages), OUT / "xor-map-end", (40, 40, 1090, 560))
    book = openpyxl.load_workbook(xlsx)  # t = 0: the map before any update
    book[STRINGS["en"]["sheet.map"]]["B4"] = 0
    book.save(work / "xor-0.xlsx")
    pdf = to_pdf(work / "xor-0.xlsx", work / "xor-0.pdf")
    crop(pdf, first_page_of(STRINGS["en"]["sheet.map"], page_texts(pdf)), OUT / "xor-map-0",
         (40, 40, 1090, 560))


def render_softmax_map(work: Path) -> None:
    """A softmax classifier of three clusters: each class its colour, darker where surer."""
    spec = parse_spec({
        "title": "Three classes on two inputs (softmax)",
        "network": {"sizes": [2, 3, 3], "activations": ["tanh", "softmax"], "loss": "cross_entropy"},
        "training": {"learning_rate": 0.5, "iterations": 200}, "init": {"seed": 1},
        "data": {"inputs": [[0.0, 0.0], [0.2, 0.3], [1.0, 0.1], [0.8, 0.3], [0.4, 1.0], [0.6, 0.9]],
                 "targets": [[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 1, 0], [0, 0, 1], [0, 0, 1]]},
    })
    xlsx = build_workbook(spec, work / "softmax.xlsx", options=BuildOptions(decision_map=25))
    pdf = to_pdf(xlsx, work / "softmax.pdf")
    crop(pdf, first_page_of(STRINGS["en"]["sheet.map"], page_texts(pdf)), OUT / "softmax-map",
         (40, 40, 1000, 450), dpi=120)


def render_layered_working(work: Path) -> None:
    """The top of a network of layers' Working sheet: conv2d, max-pool and dense, sample 1."""
    spec = load_template("cnn-stripes")
    xlsx = build_workbook(spec, work / "cnn.xlsx",
                          options=BuildOptions(only_sheets=("sheet.network", "sheet.working")))
    pdf = to_pdf(xlsx, work / "cnn.pdf")
    crop(pdf, first_page_of(STRINGS["en"]["sheet.working"], page_texts(pdf)), OUT / "cnn-working",
         (40, 40, 1100, 560))


# The Guide's t for each picture: the trained kernels and attention; the rnn at t = 0, since
# LibreOffice, printing the Guide before the Training sheet is computed, gives up on the long
# recursive chain of an rnn's rows (Err:522) when a Guide cell asks for the last row.
PICTURE_T = {"cnn-stripes": None, "attention-marker": None, "rnn-sequence": 0}
# and a choice typed: cnn-stripes' second kernel (the first learns little on these stripes)
PICTURE_CHOICES = {"cnn-stripes": {"guide.draw.channel": 2}}


def render_layered_guides(work: Path) -> None:
    """The page of each layered template's Guide that draws its layers, in English and Chinese."""
    from sheetnet.sheets.layer_drawings import T_COL
    from sheetnet.verify.guidecheck import t_row

    for name, t in PICTURE_T.items():
        spec = load_template(name)
        for lang in ("en", "zh"):
            xlsx = build_workbook(spec, work / f"{name}-{lang}.xlsx", options=BuildOptions(lang=lang))
            book = openpyxl.load_workbook(xlsx)
            guide = book.worksheets[0]
            cells = {(c.row, c.column): c.value for row in guide.iter_rows() for c in row}
            guide.cell(t_row(cells), T_COL).value = spec.iterations if t is None else t
            for key, value in PICTURE_CHOICES.get(name, {}).items():  # its yellow cell: 2 right of its label
                row, col = next(at for at, text in cells.items() if text == STRINGS[lang][key])
                guide.cell(row, col + 2).value = value
            book.save(xlsx)
            pdf = to_pdf(xlsx, work / f"{name}-{lang}.pdf")
            pages = page_texts(pdf)
            heading = STRINGS[lang]["guide.layers_heading"]
            page = next(n for n, text in enumerate(pages, start=1) if heading in text)
            target = OUT / f"{lang}-guide-{name}"
            subprocess.run(["pdftoppm", "-png", "-r", str(DPI), "-f", str(page), "-l", str(page),
                            "-singlefile", str(pdf), str(target)], check=True)
            print(f"{target}.png  (page {page})")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for lang in ("en", "zh"):
            render(lang, Path(tmp))
        render_iris(Path(tmp))
        render_optimizers(Path(tmp))
        render_softmax_map(Path(tmp))
        render_layered_working(Path(tmp))
        render_layered_guides(Path(tmp))


if __name__ == "__main__":
    main()
