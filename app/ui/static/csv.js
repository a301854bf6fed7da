// CSV in and out for the page (RFC 4180: quoted fields, doubled quotes, CRLF or LF), and the
// listing objects the API takes, built from the flat columns `python -m training screen` reads.
"use strict";

const AkarCsv = (() => {
  function parse(text) {
    const rows = [];
    let row = [];
    let field = "";
    let quoted = false;
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (quoted) {
        if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
        else if (c === '"') quoted = false;
        else field += c;
      } else if (c === '"' && field === "") quoted = true;
      else if (c === ",") { row.push(field); field = ""; }
      else if (c === "\n" || c === "\r") {
        if (c === "\r" && text[i + 1] === "\n") i++;
        row.push(field); rows.push(row); row = []; field = "";
      } else field += c;
    }
    if (field !== "" || row.length) { row.push(field); rows.push(row); }
    return rows.filter((r) => r.some((cell) => cell.trim() !== ""));
  }

  const TEXT = ["listing_id", "title", "description", "category", "brand", "origin_country"];
  const NESTED = {
    seller_id: ["seller", "id"], seller_country: ["seller", "country"],
    seller_city: ["seller", "city"], ship_from_country: ["ship_from", "country"],
    ship_from_city: ["ship_from", "city"], price_currency: ["price", "currency"],
  };
  const TRUE = new Set(["true", "1", "yes", "ya", "y"]);
  const FALSE = new Set(["false", "0", "no", "tidak", "n"]);

  function setNested(listing, [outer, inner], value) {
    listing[outer] = listing[outer] || {};
    listing[outer][inner] = value;
  }

  // One listing per row: a CSV with a `title` column, or else one title per line.
  function listings(text) {
    const rows = parse(text);
    if (!rows.length) return [];
    const header = rows[0].map((h) => h.trim().toLowerCase());
    if (!header.includes("title")) {
      return text.split(/\r?\n/).map((line) => line.trim()).filter(Boolean)
        .map((title) => ({ title }));
    }
    return rows.slice(1).map((cells) => {
      const listing = {};
      header.forEach((name, k) => {
        const value = (cells[k] ?? "").trim();
        if (value === "") return;
        if (TEXT.includes(name)) listing[name] = value;
        else if (NESTED[name]) setNested(listing, NESTED[name], value);
        else if (name === "price_amount") setNested(listing, ["price", "amount"], Number(value));
        else if (name === "seller_cross_border") {
          const v = value.toLowerCase();
          setNested(listing, ["seller", "cross_border"], TRUE.has(v) ? true : FALSE.has(v) ? false : value);
        }
      });
      if (listing.title === undefined) listing.title = "";
      return listing;
    });
  }

  // A cell a spreadsheet would run as a formula is written as text.
  function cell(value) {
    let s = value === null || value === undefined ? "" : String(value);
    if (/^[=+\-@\t\r]/.test(s)) s = "'" + s;
    return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }

  function format(header, rows) {
    return [header, ...rows].map((r) => r.map(cell).join(",")).join("\r\n") + "\r\n";
  }

  return { parse, listings, format };
})();
