// The console's little JavaScript: poll a running job, cancel it, sort the gradebook.
"use strict";

function pollJob(panel) {
  const ws = document.body.dataset.ws;
  const id = panel.dataset.job;
  const bar = panel.querySelector("progress");
  const what = panel.querySelector(".what");
  const count = panel.querySelector(".count");
  async function tick() {
    const response = await fetch(`/jobs/${id}?ws=${ws}`, {credentials: "same-origin"});
    const job = await response.json();
    if (job.total) {
      bar.max = job.total; bar.value = job.done;
      count.textContent = `${job.done} / ${job.total}`;
    }
    if (job.what) what.textContent = job.what;
    if (job.state === "running") setTimeout(tick, 400);
    else location.reload();
  }
  panel.querySelector(".cancel").addEventListener("click", async () => {
    const body = new FormData();
    body.append("ws", ws);
    body.append("csrf", document.body.dataset.csrf);
    await fetch(`/jobs/${id}/cancel`, {method: "POST", body, credentials: "same-origin"});
  });
  tick();
}

function sortable(table) {
  table.querySelectorAll("th[data-col]").forEach((th) => {
    th.addEventListener("click", () => {
      const col = Number(th.dataset.col);
      const down = th.dataset.dir !== "asc";
      th.dataset.dir = down ? "asc" : "desc";
      const body = table.tBodies[0];
      const rows = Array.from(body.rows);
      const key = (row) => row.cells[col].textContent.trim();
      rows.sort((a, b) => {
        const x = key(a), y = key(b);
        const nx = parseFloat(x), ny = parseFloat(y);
        const order = !isNaN(nx) && !isNaN(ny) ? nx - ny : x.localeCompare(y);
        return down ? order : -order;
      });
      rows.forEach((row) => body.appendChild(row));
    });
  });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("section.job[data-job]").forEach(pollJob);
  document.querySelectorAll("table.sortable").forEach(sortable);
  const template = document.getElementById("template");
  if (template) template.addEventListener("change", () => template.form.submit());
});
