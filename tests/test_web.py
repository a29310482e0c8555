"""The console (`sheetnet serve`) through Starlette's test client: every page, every error the
issue lists (bad TOML, bad roster, wrong secret, foreign upload, oversized upload, missing
token), CSRF, workspaces that do not mix, cancelling, and the files it hands out."""

from __future__ import annotations

import csv
import html
import io
import re
import time
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest

with warnings.catch_warnings():  # Starlette 1.x prefers httpx2 for its test client; httpx still works
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

import sheetnet
from sheetnet.model import fields
from sheetnet.web import specform, workspace
from sheetnet.web.app import create_app
from sheetnet.web.serve import address, console_token, is_loopback
from tests.conftest import needs_libreoffice
from tests.test_class import answers_of, fill

SECRET = "web-secret-autumn-7Q"
HOSTILE = "<img src=x onerror=alert(1)>"  # a roster's name is text, shown escaped
ROSTER = f"id,name\ns01,Ann Lee\ns02,Bo Chen\ns03,王小明\ns04,{HOSTILE}\ns05,Eli Ito\n"


class Page:
    """A browser tab: its workspace id and CSRF field, read from the page like a browser would."""

    def __init__(self, client: TestClient, path: str) -> None:
        self.client = client
        self.response = client.get(path)
        assert self.response.status_code == 200, self.response.text
        self.ws = re.search(r'name="ws" value="([^"]+)"', self.response.text).group(1)  # type: ignore[union-attr]
        self.csrf = re.search(r'name="csrf" value="([^"]+)"', self.response.text).group(1)  # type: ignore[union-attr]

    def form_values(self) -> dict[str, str]:
        """The spec form's fields as the page fills them."""
        text = self.response.text
        values = dict(re.findall(r'<input id="f-([^"]+)" name="[^"]+" value="([^"]*)"', text))
        areas = re.findall(r'<textarea id="f-([^"]+)" [^>]*>([^<]*)</textarea>', text)
        values |= {k: v.strip() for k, v in areas}
        for name, body in re.findall(r'<select id="f-([^"]+)" name="[^"]+">(.*?)</select>', text, re.S):
            chosen = re.search(r"<option selected>([^<]*)</option>", body)
            values[name] = chosen.group(1) if chosen else ""
        return {k: html.unescape(v) for k, v in values.items()}

    def post(self, path: str, data: dict[str, Any] | None = None, files: Any = None) -> Any:
        return self.client.post(path, data={"ws": self.ws, "csrf": self.csrf, **(data or {})}, files=files,
                                follow_redirects=False)

    def run(self, page: str, data: dict[str, Any] | None = None, files: Any = None) -> dict[str, Any]:
        """Start the page's job, wait for it as the page's script does, return its last status."""
        response = self.post(f"/{page}/run", data, files)
        assert response.status_code == 303, response.text
        job = re.search(r"job=([\w-]+)", response.headers["location"]).group(1)  # type: ignore[union-attr]
        status = self.wait(job)
        self.response = self.client.get(response.headers["location"])
        return status

    def wait(self, job: str, timeout: float = 300) -> dict[str, Any]:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            status = self.client.get(f"/jobs/{job}?ws={self.ws}").json()
            if status["state"] != "running":
                return status
            time.sleep(0.05)
        raise AssertionError("the job did not finish")

    def download(self, name: str) -> bytes:
        response = self.client.get(f"/download/{name}?ws={self.ws}")
        assert response.status_code == 200, response.text
        return response.content


@pytest.fixture()
def client() -> Iterator[TestClient]:
    with TestClient(create_app()) as c:
        yield c


# --- pages --------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["build", "exercise", "class", "grade", "check"])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_page_renders_in_both_languages(client: TestClient, page: str, lang: str) -> None:
    response = client.get(f"/{page}?lang={lang}")
    assert response.status_code == 200
    assert ('lang="zh-CN"' in response.text) == (lang == "zh")
    assert {"build": "生成", "exercise": "练习", "class": "班级", "grade": "评分", "check": "检查"}[page] in \
        response.text if lang == "zh" else ">Build<" in response.text


def test_the_browser_language_is_the_default_and_the_switch_is_remembered(client: TestClient) -> None:
    assert 'lang="zh-CN"' in client.get("/build", headers={"accept-language": "zh-CN,zh;q=0.9"}).text
    assert 'lang="en"' in client.get("/build", headers={"accept-language": "en-GB"}).text
    client.get("/build?lang=zh")
    assert 'lang="zh-CN"' in client.get("/class", headers={"accept-language": "en-GB"}).text


def test_the_build_forms_help_is_chinese_on_the_chinese_page(client: TestClient) -> None:
    shown = specform.form_fields()
    # a field added to model/fields.py needs its Chinese help in web/words.py
    assert all(f.doc_zh for f in shown), [f.path for f in shown if not f.doc_zh]
    zh, en = client.get("/build?lang=zh").text, client.get("/build?lang=en").text
    assert "学习率 η，一个正数。" in zh and "η, a positive number." not in zh
    assert "η, a positive number." in en and "学习率 η" not in en


def test_the_build_form_has_every_field_of_the_schema_filled_from_the_template(client: TestClient) -> None:
    page = Page(client, "/build")
    values = page.form_values()
    declared = [f.path for f in fields.DECLARED if f.json is not fields.TABLE]
    assert sorted(values) == sorted(declared)
    assert values["network.sizes"] == "[2, 2, 2]"
    assert values["training.learning_rate"] == "0.5"
    assert values["init.weights"] == "[[[0.05, 0.1], [0.15, 0.2]], [[0.25, 0.3], [0.35, 0.4]]]"
    assert values["network.loss"] == "half_sse"
    # the drawing: one circle per neuron, one line per weight
    assert page.response.text.count("<circle") == 6 and page.response.text.count("<line") == 8
    iris = Page(client, "/build?template=iris").response.text
    assert iris.count("<circle") == sum(min(n, 8) for n in sheetnet.template("iris").sizes) == 11


def test_build_downloads_a_workbook_that_passes_the_check(client: TestClient, tmp_path: Path) -> None:
    page = Page(client, "/build")
    values = page.form_values() | {"training.iterations": "7", "training.learning_rate": "2"}
    status = page.run("build", values | {"lang": "zh"})
    assert status["state"] == "done", status
    path = tmp_path / "workbook.xlsx"
    path.write_bytes(page.download("workbook.xlsx"))
    report = sheetnet.check(path)
    assert report.ok and report.cells > 100
    book = openpyxl.load_workbook(path, read_only=True)
    assert "训练" in book.sheetnames  # zh sheet names
    # the form keeps what was built, the page offers the download under its fixed name
    assert 'value="7"' in page.response.text and "/download/workbook.xlsx?ws=" in page.response.text


@pytest.mark.parametrize(("field", "text", "message"), [
    ("network.sizes", "[2, x]", "network.sizes: '[2, x]' is not a TOML value"),
    ("training.learning_rate", "-1", "training.learning_rate must be a positive number"),
    ("network.activations", '["sigmoid", "nope"]', "network.activations"),
    ("network.train_bias", "maybe", "network.train_bias: true or false"),
])
def test_a_bad_field_gets_the_api_message_beside_it(client: TestClient, field: str, text: str,
                                                      message: str) -> None:
    page = Page(client, "/build")
    response = page.post("/build/run", page.form_values() | {field: text})
    assert response.status_code == 400
    row = re.search(rf'<tr class="bad"><th><label for="f-{re.escape(field)}">.*?</tr>', response.text, re.S)
    assert row is not None and message in html.unescape(row.group(0))
    assert "Traceback" not in response.text


def test_a_bad_option_fails_the_job_with_the_api_line(client: TestClient) -> None:
    page = Page(client, "/build")
    status = page.run("build", page.form_values() | {"compare_optim": "sgd,nosuch"})
    assert status["state"] == "failed"
    assert "unknown optimizer" in status["error"] or "nosuch" in status["error"]
    assert "\n" not in status["error"] and "sheetnet-console-" not in status["error"]


def test_a_toml_upload_fills_the_form_and_bad_toml_is_one_line(client: TestClient) -> None:
    page = Page(client, "/build")
    spec = Path(sheetnet.api.__file__).parents[1] / "templates" / "xor.toml"
    good = page.post("/build/load", page.form_values(),
                     files={"toml_file": ("my net.toml", spec.read_bytes())})
    assert good.status_code == 200
    assert 'value="[2, 2, 1]"' in good.text or "[2, 2, 1]" in good.text
    bad = page.post("/build/load", page.form_values(), files={"toml_file": ("broken.toml", b"[network\nx=")})
    assert bad.status_code == 400
    assert "broken.toml: not valid TOML" in bad.text and "sheetnet-console-" not in bad.text


@pytest.mark.parametrize("path", ["/etc/hosts.csv", "../../x.csv", "data/../../x.csv", ".hidden.csv"])
def test_data_csv_reads_only_files_uploaded_to_the_page(client: TestClient, path: str) -> None:
    page = Page(client, "/build")
    response = page.post("/build/run", page.form_values() | {"data.csv": path, "data.inputs": ""})
    assert response.status_code == 400
    assert "data.csv: give the name of a CSV file uploaded on this page" in html.unescape(response.text)


def test_a_csv_data_file_is_used_by_data_csv(client: TestClient, tmp_path: Path) -> None:
    page = Page(client, "/build")
    data = "x1,x2,y1,y2\n0,0,0,1\n0,1,1,0\n1,0,1,0\n1,1,0,1\n"
    loaded = page.post("/build/load", page.form_values(),
                       files={"data_file": ("../../xor data.csv", data.encode())})
    assert loaded.status_code == 200
    values = page.form_values() | {"data.csv": "xor data.csv", "data.inputs": "", "data.targets": "",
                                   "data.input_columns": '["x1", "x2"]', "training.iterations": "3",
                                   "data.target_columns": '["y1", "y2"]'}
    assert 'value="xor data.csv"' in loaded.text  # the file kept under its safe name, offered to data.csv
    status = page.run("build", values)
    assert status["state"] == "done", status
    path = tmp_path / "w.xlsx"
    path.write_bytes(page.download("workbook.xlsx"))
    assert sheetnet.check(path).ok


def test_the_exercise_page_builds_a_practice_workbook(client: TestClient, tmp_path: Path) -> None:
    page = Page(client, "/exercise")
    status = page.run("exercise", page.form_values() | {"ask_forward": "1", "sig_figs": "3"})
    assert status["state"] == "done", status
    path = tmp_path / "exercise.xlsx"
    path.write_bytes(page.download("exercise.xlsx"))
    book = openpyxl.load_workbook(path)
    assert "Exercise" in book.sheetnames
    asked = {book["Exercise"].cell(r, 2).value for r in range(1, book["Exercise"].max_row + 1)}
    assert not any(str(q).startswith("delta") for q in asked if q)  # only the forward pass asked


# --- class and grade ----------------------------------------------------------------------------


def make_class(client: TestClient, roster: str = ROSTER) -> tuple[Page, dict[str, Any]]:
    page = Page(client, "/class")
    status = page.run("class", {"secret": SECRET, "template": "seed-004-2-2-2"},
                      files={"roster": ("roster.csv", roster.encode())})
    return page, status


def test_a_class_of_five_and_its_two_zips(client: TestClient) -> None:
    page, status = make_class(client)
    assert status["state"] == "done", status
    assert status["done"] == status["total"] and status["total"] >= 5  # the progress reached the end
    students = zipfile.ZipFile(io.BytesIO(page.download("students.zip"))).namelist()
    assert sorted(students) == [f"students/s0{i}.xlsx" for i in range(1, 6)]
    folder = zipfile.ZipFile(io.BytesIO(page.download("class.zip"))).namelist()
    assert "class/class.toml" in folder and "class/key/s03.toml" in folder
    assert "5" in page.response.text and "/download/class.zip?ws=" in page.response.text
    # the secret is never sent back: not in the page, not in the class folder
    assert SECRET not in page.response.text
    with zipfile.ZipFile(io.BytesIO(page.download("class.zip"))) as z:
        assert all(SECRET.encode() not in z.read(n) for n in z.namelist())


def test_a_bad_roster_and_a_missing_secret(client: TestClient) -> None:
    page, status = make_class(client, "name,email\nAnn,a@b\n")
    assert status["state"] == "failed"
    assert status["error"].startswith("roster.csv: the roster has no 'id' column (its columns: name, email)")
    assert "sheetnet-console-" not in status["error"]
    response = page.post("/class/run", {"secret": ""}, files={"roster": ("r.csv", ROSTER.encode())})
    assert response.status_code == 400 and "a class needs a secret" in response.text


def submissions(page: Page, tmp_path: Path, how_many: int = 3) -> list[tuple[str, tuple[str, bytes]]]:
    """Students' files with every answer right (s01), the key's numbers ×1.1 (s02), blank (s03)."""
    folder = tmp_path / "class"
    with zipfile.ZipFile(io.BytesIO(page.download("class.zip"))) as z:
        z.extractall(tmp_path)
    keys = answers_of(folder)
    answers = [keys["s01"], {k: v * 1.1 for k, v in keys["s02"].items()}, {}]
    out = []
    for n, sid in enumerate(["s01", "s02", "s03"][:how_many]):
        path = fill(folder, sid, tmp_path / f"{sid}.xlsx", answers[n])
        out.append(("submissions", (f"{sid}.xlsx", path.read_bytes())))
    return out


def gradebook_table(html: str) -> list[list[str]]:
    table = re.search(r'<table class="sortable" id="gradebook">(.*?)</table>', html, re.S).group(1)  # type: ignore[union-attr]
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)]


def test_grading_the_session_class_shows_the_gradebook(client: TestClient, tmp_path: Path) -> None:
    page, _ = make_class(client)
    grade = Page(client, f"/grade?ws={page.ws}")
    assert grade.ws == page.ws  # the same tab: the class made here is offered
    status = grade.run("grade", {"ecf_credit": "1"}, files=submissions(page, tmp_path))
    assert status["state"] == "done", status
    rows = gradebook_table(grade.response.text)
    head, body = rows[0], {r[0]: r for r in rows[1:]}
    n = int(body["s01"][head.index("max")])
    assert body["s01"][head.index("score")] == str(n) and body["s01"][head.index("percent")] == "100.0"
    assert body["s03"][head.index("score")] == "0" and body["s03"][5:5 + n] == ["blank"] * n
    assert float(body["s02"][head.index("score")]) < n and "wrong" in body["s02"]
    assert body["s04"][head.index("score")] == ""  # handed nothing in
    assert HOSTILE not in grade.response.text and html.escape(HOSTILE) in grade.response.text
    # downloads: the CSV gradebook holds the same rows; the feedback zip one workbook per graded student
    gradebook = list(csv.reader(io.StringIO(grade.download("gradebook.csv").decode())))
    assert gradebook[0][:5] == ["id", "name", "score", "max", "percent"]
    assert [r[2] for r in gradebook[1:]] == [body[s][2] for s in ("s01", "s02", "s03", "s04", "s05")]
    feedback = zipfile.ZipFile(io.BytesIO(grade.download("feedback.zip"))).namelist()
    assert sorted(feedback) == ["feedback/s01.xlsx", "feedback/s02.xlsx", "feedback/s03.xlsx"]
    assert "3 of 5 students graded" in grade.download("report.txt").decode()
    assert "<summary>3 of 5 students graded</summary>" in grade.response.text
    zh = client.get(f"/grade?ws={grade.ws}&lang=zh").text  # the headline in the page's language
    assert "<summary>已评分 3 名学生（共 5 名）</summary>" in zh and "students graded" not in zh
    # each graded student's feedback in the page
    view = client.get(f"/grade/student?ws={grade.ws}&n=1")
    assert view.status_code == 200 and "s02" in view.text and view.text.count('class="v-wrong"') >= 1


def test_grading_an_uploaded_class_zip_needs_its_secret(client: TestClient, tmp_path: Path) -> None:
    page, _ = make_class(client)
    class_zip = page.download("class.zip")
    subs = submissions(page, tmp_path, 1)
    other = Page(client, "/grade")  # another tab: no class of its own
    assert other.ws != page.ws
    wrong = other.run("grade", {"secret": "not-the-secret"},
                      files=[("class_zip", ("c.zip", class_zip)), *subs])
    assert wrong["state"] == "failed" and "secret does not match" in wrong["error"]
    right = other.run("grade", {"secret": SECRET}, files=[("class_zip", ("c.zip", class_zip)), *subs])
    assert right["state"] == "done", right
    assert gradebook_table(other.response.text)[1][2] != ""  # s01 graded


def test_foreign_uploads_are_refused_as_check_and_grade_refuse_them(client: TestClient) -> None:
    page, _ = make_class(client)
    grade = Page(client, f"/grade?ws={page.ws}")
    status = grade.run("grade", {}, files=[("submissions", ("s01.xlsx", b"%PDF-1.4 not a workbook"))])
    assert status["state"] == "done"
    assert "s01.xlsx" in grade.response.text and "Files not graded" in grade.response.text
    check = Page(client, "/check")
    failed = check.run("check", {}, files={"workbook": ("x.xlsx", b"PK\x03\x04 broken zip")})
    assert failed["state"] == "failed" and "\n" not in failed["error"]
    bad_zip = grade.run("grade", {"secret": SECRET},
                        files=[("class_zip", ("c.zip", b"not a zip")), ("submissions", ("a.xlsx", b"x"))])
    assert bad_zip["state"] == "failed" and "class zip: not a zip file" in bad_zip["error"]


def test_grading_without_a_class_says_what_to_do(client: TestClient) -> None:
    page = Page(client, "/grade")
    response = page.post("/grade/run", {}, files={"submissions": ("a.xlsx", b"x")})
    assert response.status_code == 400 and "make a class on the Class page first" in response.text


# --- check --------------------------------------------------------------------------------------


def test_the_check_page_reports_each_sheet_and_group(client: TestClient, tmp_path: Path) -> None:
    path = sheetnet.build(sheetnet.template().replace(iterations=5), tmp_path / "w.xlsx")
    page = Page(client, "/check")
    status = page.run("check", {"engine": "formulas"}, files={"workbook": ("w.xlsx", path.read_bytes())})
    assert status["state"] == "done", status
    report = sheetnet.check(path)
    html = page.response.text
    assert "OK: every cell agrees" in html and f"{report.cells:,}" in html
    for name in report.listed():
        group = report.groups[name]
        row = f"<td>{group.sheet}</td><td>{name}</td><td>{group.cells:,}</td>"
        assert row in html, row


# --- safety -------------------------------------------------------------------------------------


def test_a_token_is_needed_on_every_request_when_there_is_one() -> None:
    token = "t" * 24
    with TestClient(create_app(token=token)) as c:
        assert c.get("/build").status_code == 403
        assert c.get("/static/style.css").status_code == 403
        assert c.get("/jobs/x").status_code == 403
        assert c.get(f"/build?token={'u' * 24}").status_code == 403
        assert c.get(f"/build?token={token}").status_code == 200
        assert c.get("/class").status_code == 200  # the cookie the first page set carries it
    with TestClient(create_app(token=token)) as c:
        assert c.get("/build", headers={"x-sheetnet-token": token}).status_code == 200


def test_serve_binds_loopback_without_a_token_and_elsewhere_with_one() -> None:
    import socket

    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")
    assert console_token("127.0.0.1", None) is None
    made = console_token("0.0.0.0", None)
    assert made is not None and len(made) >= 24 and made != console_token("0.0.0.0", None)
    assert console_token("0.0.0.0", "x" * 20) == "x" * 20
    with pytest.raises(sheetnet.SheetnetError, match="at least 16"):
        console_token("0.0.0.0", "short")
    assert address("0.0.0.0", 8000, "abc") == f"http://{socket.gethostname()}:8000/?token=abc"
    assert address("192.168.1.5", 8000, "abc") == "http://192.168.1.5:8000/?token=abc"
    assert address("::1", 8001, None) == "http://[::1]:8001/"


def test_serve_on_the_command_line_checks_its_options() -> None:
    from typer.testing import CliRunner

    from sheetnet.cli import app

    result = CliRunner().invoke(app, ["serve", "--port", "70000"])
    assert result.exit_code == 2 and "--port must be between 1 and 65535" in result.output
    result = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0", "--token", "abc"])
    assert result.exit_code == 2 and "--token must be at least 16 characters" in result.output
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(app, ["serve", "--port", str(port)])
    assert result.exit_code == 2 and f"cannot listen on 127.0.0.1:{port}" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_form_without_its_csrf_field_is_refused(client: TestClient) -> None:
    page = Page(client, "/build")
    response = client.post("/build/run", data={"ws": page.ws, "csrf": "forged"}, follow_redirects=False)
    assert response.status_code == 403 and "CSRF" in response.text
    other = TestClient(client.app)  # another browser: its own session cookie
    with other:
        response = other.post("/build/run", data={"ws": page.ws, "csrf": page.csrf}, follow_redirects=False)
        assert response.status_code == 403


def test_an_oversized_upload_is_refused_before_it_is_read() -> None:
    with TestClient(create_app(max_upload=10_000)) as c:
        page = Page(c, "/check")
        response = page.post("/check/run", {}, files={"workbook": ("w.xlsx", b"x" * 20_000)})
        assert response.status_code == 413 and "larger than" in response.text
        assert not any(p.is_file() for p in c.app.state.console.store.root.rglob("*"))


def test_two_tabs_and_two_browsers_do_not_see_each_others_files(client: TestClient) -> None:
    first = Page(client, "/build")
    assert first.run("build", first.form_values() | {"training.iterations": "2"})["state"] == "done"
    second = Page(client, "/build")
    assert second.ws != first.ws
    assert client.get(f"/download/workbook.xlsx?ws={second.ws}").status_code == 404
    assert client.get(f"/download/workbook.xlsx?ws={first.ws}").status_code == 200
    assert client.get(f"/download/..%2F..%2Fetc%2Fpasswd?ws={first.ws}").status_code == 404
    with TestClient(client.app) as stranger:  # the workspace id alone opens nothing
        assert stranger.get(f"/download/workbook.xlsx?ws={first.ws}").status_code == 404
        assert stranger.get(f"/build?ws={first.ws}").text.count(first.ws) == 0


def test_a_long_job_can_be_cancelled(client: TestClient) -> None:
    page = Page(client, "/build")
    response = page.post("/build/run", page.form_values() | {"training.iterations": "200000"})
    job = re.search(r"job=([\w-]+)", response.headers["location"]).group(1)  # type: ignore[union-attr]
    cancel = page.post(f"/jobs/{job}/cancel")
    assert cancel.status_code == 200
    assert page.wait(job, 120)["state"] == "cancelled"
    assert client.get(f"/download/workbook.xlsx?ws={page.ws}").status_code == 404
    assert not list(client.app.state.console.store.root.rglob("*.xlsx"))  # nothing half-written


def test_the_temporary_folder_is_removed_on_exit() -> None:
    app = create_app()
    with TestClient(app) as c:
        _, status = make_class(c)
        root = app.state.console.store.root
        assert status["state"] == "done" and any(root.rglob("*.xlsx"))
    assert not root.exists()


# --- untrusted zips -----------------------------------------------------------------------------


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return out.getvalue()


def test_zips_are_opened_as_untrusted(tmp_path: Path) -> None:
    hostile = tmp_path / "hostile.zip"
    hostile.write_bytes(_zip({"c/class.toml": b"x", "c/../../evil.txt": b"x", "c/key/a.toml": b"k",
                              "/abs.txt": b"x", "c/a/b/c.txt": b"deep"}))
    folder = workspace.unzip_class(hostile, tmp_path / "out")
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) == \
        ["class.toml", "key/a.toml"]
    assert not (tmp_path / "evil.txt").exists()
    reader = tmp_path / "reader.zip"
    reader.write_bytes(_zip({"class.toml": b'kind = "x"', "key/s01.toml": b'[data]\ncsv = "/etc/hosts"\n'}))
    with pytest.raises(sheetnet.SheetnetError, match=r"key/s01.toml reads its data from a CSV file"):
        workspace.unzip_class(reader, tmp_path / "reader")
    bomb = tmp_path / "bomb.zip"
    bomb.write_bytes(_zip({"a.xlsx": b"\0" * (8 * 2**20)}))
    with pytest.raises(sheetnet.SheetnetError, match="zip bomb"):
        workspace.unzip_submissions(bomb, tmp_path / "subs")
    subs = tmp_path / "subs.zip"
    subs.write_bytes(_zip({"x/../s01.xlsx": b"1", "notes.txt": b"2", "__MACOSX/._s02.xlsx": b"3",
                           "s02.xlsx": b"4"}))
    got = workspace.unzip_submissions(subs, tmp_path / "subs2")
    assert [p.name for p in got] == ["s01.xlsx", "s02.xlsx"]
    assert all(p.is_relative_to(tmp_path / "subs2") for p in got)


@pytest.mark.parametrize(("name", "safe"), [
    ("s01.xlsx", "s01.xlsx"), ("../../etc/passwd", "passwd.xlsx"),
    ("C:\\Users\\a\\王小明.XLSX", "王小明.xlsx"),
    ("", "file.xlsx"), ("..", "file.xlsx"), ("a;rm -rf.xlsx", "a_rm -rf.xlsx"),
])
def test_upload_names_become_safe_names(name: str, safe: str) -> None:
    assert workspace.safe_name(name, ".xlsx") == safe


def test_sheetnet_serve_serves_and_removes_its_folder_on_ctrl_c(tmp_path: Path) -> None:
    """The command itself: it prints the address, answers on it, and Ctrl-C removes every upload."""
    import os
    import signal
    import socket
    import subprocess
    import sys
    import urllib.request

    from tests.conftest import ctrl_c_as_at_a_terminal

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-m", "sheetnet", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=ctrl_c_as_at_a_terminal)
    try:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        assert f"open http://127.0.0.1:{port}/" in line and "token" not in line
        for _ in range(100):
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/build", timeout=5).read().decode()
                break
            except OSError:
                time.sleep(0.1)
        assert "network.sizes" in page
        assert [p.name.startswith("sheetnet-console-") for p in tmp_path.iterdir()] == [True]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
    assert list(tmp_path.iterdir()) == []


def test_every_word_has_both_languages() -> None:
    from sheetnet.web.words import WORDS

    assert set(WORDS["en"]) == set(WORDS["zh"])


def test_a_gradebook_format_the_api_lists_appears_on_the_grade_page(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The API's format list drives the page: a platform listed there is offered, written by
    api.grade(fmt=...) and downloadable, with nothing in the console naming it."""
    calls: list[dict[str, Any]] = []
    real = sheetnet.api.grade

    def grade(folder: Any, files: Any, *, fmt: str = "plain", assignment: str = "", **kw: Any) -> Any:
        calls.append({"fmt": fmt, "assignment": assignment})
        if fmt != "plain":
            Path(kw["gradebook"]).write_text(f"{fmt} {assignment}\n", encoding="utf-8")
            kw["gradebook"] = None
        return real(folder, files, **kw)

    monkeypatch.setattr(sheetnet.api, "GRADEBOOK_FORMATS", ("plain", "lms-x"), raising=False)
    monkeypatch.setattr(sheetnet.api, "grade", grade)
    page, _ = make_class(client)
    grade_page = Page(client, f"/grade?ws={page.ws}")
    assert 'name="format_lms-x"' in grade_page.response.text
    status = grade_page.run("grade", {"format_lms-x": "1", "assignment": "Week 3"},
                            files=submissions(page, tmp_path, 1))
    assert status["state"] == "done", status
    assert [c["fmt"] for c in calls] == ["plain", "lms-x"] and calls[1]["assignment"] == "Week 3"
    assert grade_page.download("gradebook-lms-x.csv") == b"lms-x Week 3\n"


def test_the_console_calls_only_the_api() -> None:
    """Every page is a thin layer over sheetnet.api: besides its own modules the console imports
    the API, the errors and the spec's field table (the Build form's rows), nothing else."""
    from tests.test_layers import PACKAGE, imports, modules

    known = set(modules())
    used = set().union(*(imports(p, known) for p in (PACKAGE / "web").glob("*.py")))
    assert {m for m in used if not m.startswith("sheetnet.web")} == {"sheetnet.api", "sheetnet.errors",
                                                                    "sheetnet.model.fields"}


@needs_libreoffice
def test_the_pdf_handout_where_libreoffice_is_installed(client: TestClient) -> None:
    page = Page(client, "/build")
    assert 'name="pdf"' in page.response.text
    status = page.run("build", page.form_values() | {"training.iterations": "5", "pdf": "1"})
    assert status["state"] == "done", status
    assert page.download("build.pdf").startswith(b"%PDF")
    assert "/download/build.pdf?ws=" in page.response.text


def test_without_libreoffice_the_page_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sheetnet.api, "has_libreoffice", lambda: False)
    with TestClient(create_app()) as c:
        for page in ("build", "exercise", "class"):
            text = c.get(f"/{page}").text
            assert 'name="pdf"' not in text and "PDF needs LibreOffice, which is not installed here" in text


def test_a_loopback_console_answers_only_to_loopback_names_and_is_never_framed() -> None:
    with TestClient(create_app(hosts=["127.0.0.1", "localhost"]), base_url="http://127.0.0.1:8000") as c:
        response = c.get("/build")
        assert response.status_code == 200
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["referrer-policy"] == "no-referrer"
        assert c.get("/build", headers={"host": "rebound.example:8000"}).status_code == 400


def test_a_big_class_reports_progress_and_can_be_cancelled(client: TestClient) -> None:
    """The progress bar's numbers rise student by student; cancelled, the class leaves no file."""
    roster = "id,name\n" + "".join(f"s{i:03d},Student {i}\n" for i in range(40))
    page = Page(client, "/class")
    response = page.post("/class/run", {"secret": SECRET}, files={"roster": ("r.csv", roster.encode())})
    job = re.search(r"job=([\w-]+)", response.headers["location"]).group(1)  # type: ignore[union-attr]
    seen = []
    while (status := client.get(f"/jobs/{job}?ws={page.ws}").json())["state"] == "running":
        seen.append(status["done"])
        if status["done"] >= 4:
            page.post(f"/jobs/{job}/cancel")
        time.sleep(0.05)
    assert status["state"] == "cancelled" and status["total"] == 40 and 4 <= status["done"] < 40
    assert seen == sorted(seen) and len(set(seen)) >= 2
    assert not list(client.app.state.console.store.root.rglob("*.xlsx"))
    assert client.get(f"/download/class.zip?ws={page.ws}").status_code == 404


def test_too_many_files_in_one_form_are_refused(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workspace, "MAX_FILES", 2)
    page = Page(client, "/grade")
    response = page.post("/grade/run", {}, files=[("submissions", (f"s{i}.xlsx", b"x")) for i in range(3)])
    assert response.status_code == 400 and "the form was refused" in response.text
    assert not any(p.is_file() for p in client.app.state.console.store.root.rglob("*"))


def test_a_spec_toml_and_its_csv_uploaded_together(client: TestClient) -> None:
    """iris.toml names data/iris.csv: the CSV uploaded beside it is kept there and the form filled."""
    templates = Path(sheetnet.api.__file__).parents[1] / "templates"
    page = Page(client, "/build")
    response = page.post("/build/load", page.form_values(), files=[
        ("toml_file", ("iris.toml", (templates / "iris.toml").read_bytes())),
        ("data_file", ("iris.csv", (templates / "data" / "iris.csv").read_bytes()))])
    assert response.status_code == 200, re.findall(r'class="error"[^>]*>([^<]*)', response.text)
    assert 'value="[4, 4, 3]"' in response.text
    hostile = page.post("/build/load", page.form_values(), files=[
        ("toml_file", ("x.toml", b'[data]\ncsv = "../../../etc/x.csv"\n')),
        ("data_file", ("x.csv", b"a,b\n1,2\n"))])
    assert "data.csv: give the name of a CSV file uploaded on this page" in hostile.text
    root = client.app.state.console.store.root
    assert sorted(p.name for p in root.rglob("*.csv")) == ["iris.csv", "x.csv"]
    assert all(p.is_relative_to(root) for p in root.rglob("*.csv")) and hostile.status_code == 400
