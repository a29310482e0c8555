// Recalculate sheets in HyperFormula (npm), for tests/test_hyperformula.py.
// stdin: {"sheets": {name: [[cell, ...], ...]}} with formulas as "=..." text;
// stdout: {name: [[value, ...], ...]}, an error as {"error": "NUM", "message": "..."}.
const { HyperFormula } = require("hyperformula");
let input = "";
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const { sheets } = JSON.parse(input);
  const hf = HyperFormula.buildFromSheets(sheets, { licenseKey: "gpl-v3" });
  const out = {};
  for (const name of Object.keys(sheets)) {
    const id = hf.getSheetId(name);
    out[name] = hf.getSheetValues(id).map((row) => row.map((v) =>
      (v !== null && typeof v === "object") ? { error: String(v.type), message: String(v.message) } : v));
  }
  process.stdout.write(JSON.stringify(out));
});
