/* The live dashboard: panels swapped in as the edge's server-sent events bring them (/events), the NAV
   charts (uPlot) redrawn when the NAV panel changes, and the documents tools (fetch to the edge's
   HTTP/JSON routes). Plain script, no build step. Every figure of a panel comes formatted from the
   server; the documents results group the digits of the decimal strings the API sends (as text, never
   through a float). */
(function () {
  "use strict";

  var connection = document.getElementById("connection");
  var panels = {};
  Array.prototype.forEach.call(document.querySelectorAll("[data-panel]"), function (el) {
    panels[el.getAttribute("data-panel")] = el;
  });

  function setConnection(text, state) {
    connection.textContent = text;
    connection.className = "connection " + state;
  }

  // ------------------------------------------------------------ swapping panels

  function keyOf(el) {
    if (el.tagName === "A") return "a " + el.getAttribute("href");
    if (el.tagName === "SUMMARY" && el.parentElement) return "s " + el.parentElement.getAttribute("data-key");
    return null;
  }

  function findKey(root, key) {
    var kind = key.slice(0, 1), value = key.slice(2);
    var candidates = root.querySelectorAll(kind === "a" ? "a[href]" : "details[data-key] > summary");
    for (var i = 0; i < candidates.length; i++) {
      if (keyOf(candidates[i]) === key) return candidates[i];
    }
    return null;
  }

  /* Replaces a panel's HTML, keeping the keyboard focus and the open <details> where they were. */
  function swap(el, html) {
    var active = document.activeElement;
    var focusKey = active && el.contains(active) ? keyOf(active) : null;
    var open = {};
    Array.prototype.forEach.call(el.querySelectorAll("details[open][data-key]"), function (d) {
      open[d.getAttribute("data-key")] = true;
    });
    el.innerHTML = html;
    Array.prototype.forEach.call(el.querySelectorAll("details[data-key]"), function (d) {
      if (open[d.getAttribute("data-key")]) d.open = true;
    });
    if (focusKey) {
      var again = findKey(el, focusKey);
      if (again) again.focus();
    }
  }

  function sectionOf(el) {
    return el.closest("section") || el;
  }

  var source = new EventSource("/events");
  source.addEventListener("open", function () {
    document.body.classList.remove("disconnected");
    setConnection("Live: each panel changes as its service reports", "live");
  });
  source.addEventListener("error", function () {
    document.body.classList.add("disconnected");
    setConnection("Connection to the edge lost: the figures are stale; reconnecting\u2026", "lost");
  });
  source.addEventListener("panel", function (event) {
    var p = JSON.parse(event.data);
    var el = panels[p.panel];
    if (!el) return;
    sectionOf(el).classList.toggle("stale", Boolean(p.stale));
    if (el.getAttribute("data-version") === String(p.version)) return;
    el.setAttribute("data-version", String(p.version));
    swap(el, p.html);
    if (p.panel === "nav") navChanged(p.mandates || []);
  });

  // ------------------------------------------------------------ NAV charts

  var select = document.getElementById("nav-mandate");
  var growthEl = document.getElementById("chart-growth");
  var drawdownEl = document.getElementById("chart-drawdown");
  var growth = null, drawdown = null, loading = false, again = false;

  function width(el) {
    return Math.max(300, el.clientWidth || 560);
  }

  function fixed(places) {
    return function (u, v) { return v == null ? "\u2013" : v.toFixed(places); };
  }

  function growthOptions(mandate) {
    return {
      width: width(growthEl), height: 220,
      scales: { x: { time: true } },
      series: [
        {},
        { label: mandate, stroke: "#1c5aa6", width: 2, value: fixed(2) },
        { label: "Benchmark", stroke: "#b45309", width: 2, dash: [6, 4], value: fixed(2) }
      ],
      axes: [{}, { size: 56 }]
    };
  }

  function drawdownOptions() {
    return {
      width: width(drawdownEl), height: 220,
      scales: { x: { time: true } },
      series: [
        {},
        { label: "Drawdown %", stroke: "#b91c1c", fill: "rgba(185, 28, 28, 0.12)", width: 2, value: fixed(2) }
      ],
      axes: [{}, { size: 56 }]
    };
  }

  function draw(d) {
    var g = [d.x, d.portfolio, d.benchmark], dd = [d.x, d.drawdown_pct];
    if (growth && growth.series[1].label !== d.mandate_id) {
      growth.destroy(); growth = null;
    }
    if (!growth) growth = new uPlot(growthOptions(d.mandate_id), g, growthEl);
    else growth.setData(g);
    if (!drawdown) drawdown = new uPlot(drawdownOptions(), dd, drawdownEl);
    else drawdown.setData(dd);
  }

  function loadChart() {
    if (!select || !select.value) return;
    if (loading) { again = true; return; }
    loading = true;
    fetch("/dashboard/nav/" + encodeURIComponent(select.value), { cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (d) { if (d) draw(d); })
      .catch(function () { /* the connection line says when the edge is away */ })
      .then(function () {
        loading = false;
        if (again) { again = false; loadChart(); }
      });
  }

  function navChanged(mandates) {
    if (!select) return;
    var wanted = mandates.map(function (m) { return m.mandate_id; }).join("\n");
    var have = Array.prototype.map.call(select.options, function (o) { return o.value; }).join("\n");
    if (wanted !== have) {
      var keep = select.value;
      select.innerHTML = "";
      mandates.forEach(function (m) {
        var option = document.createElement("option");
        option.value = m.mandate_id;
        option.textContent = m.name ? m.mandate_id + ": " + m.name : m.mandate_id;
        select.appendChild(option);
      });
      if (keep && wanted.split("\n").indexOf(keep) >= 0) select.value = keep;
    }
    loadChart();
  }

  if (select) {
    select.addEventListener("change", loadChart);
    loadChart();
  }
  window.addEventListener("resize", function () {
    if (growth) growth.setSize({ width: width(growthEl), height: 220 });
    if (drawdown) drawdown.setSize({ width: width(drawdownEl), height: 220 });
  });

  // ------------------------------------------------------------ documents

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text != null) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }

  /* "1234567.50" -> "1,234,567.50", on the text itself (a decimal string is never made a float). */
  function grouped(text) {
    var m = /^(-?)(\d+)(\.\d+)?$/.exec(String(text));
    if (!m) return String(text);
    return m[1] + m[2].replace(/\B(?=(\d{3})+(?!\d))/g, ",") + (m[3] || "");
  }

  var NUMERIC = /^-?\d+(\.\d+)?$/;

  /* A table of text cells; a column whose `kinds` entry is "num" is right-aligned, its decimal
     strings grouped by thousands; other kinds are CSS classes of the cells. */
  function table(caption, head, rows, kinds, cls) {
    var t = el("table", null, cls || "");
    t.appendChild(el("caption", caption));
    var tr = el("tr");
    head.forEach(function (h, i) {
      var th = el("th", h, kinds[i] === "num" ? "num" : "");
      th.scope = "col";
      tr.appendChild(th);
    });
    var thead = el("thead"); thead.appendChild(tr); t.appendChild(thead);
    var tbody = el("tbody");
    rows.forEach(function (row) {
      var r = el("tr");
      row.forEach(function (cell, i) {
        var text = kinds[i] === "num" && NUMERIC.test(String(cell)) ? grouped(cell) : cell;
        if (i === 0) {
          var th = el("th", text, kinds[i] || "");
          th.scope = "row";
          r.appendChild(th);
        } else {
          r.appendChild(el("td", text, kinds[i] || ""));
        }
      });
      tbody.appendChild(r);
    });
    t.appendChild(tbody);
    return t;
  }

  function amountOf(m) {
    return m && m.amount ? m.amount.value || "0" : "\u2013";
  }

  function money(m) {
    return m && m.amount ? grouped(m.amount.value || "0") + " " + (m.currency || "") : "\u2013";
  }

  function showError(target, response, body) {
    var message = body && body.message ? body.message : "HTTP " + response.status;
    var p = el("p", null, "notice unavailable");
    p.setAttribute("role", "alert");
    var who = response.status === 503 ? "documents is unavailable: " :
      response.status === 401 ? "the edge needs its API token: " : "documents refused it: ";
    p.textContent = who + message;
    target.replaceChildren(p);
  }

  /* The edge's API token (OPSUITE_API_TOKEN), when it has one: every request but GET needs it. The
     page says whether the edge has one (data-token-required); the token is asked for once, before the
     first upload or question, and kept in sessionStorage (this tab, until it closes). A 401 (a token
     refused, or an edge restarted with another) forgets it and asks again. */
  var TOKEN_KEY = "opsuite.apiToken";

  function storedToken() {
    try { return window.sessionStorage.getItem(TOKEN_KEY) || ""; } catch (e) { return ""; }
  }

  function keepToken(token) {
    try {
      if (token) window.sessionStorage.setItem(TOKEN_KEY, token);
      else window.sessionStorage.removeItem(TOKEN_KEY);
    } catch (e) { /* storage refused (a private window): the token is asked for again next time */ }
  }

  /* Resolves to the token typed, or null when the person cancels. */
  function askToken(why) {
    var dialog = document.getElementById("token-dialog");
    var input = document.getElementById("token-input");
    document.getElementById("token-why").textContent = why;
    input.value = "";
    return new Promise(function (resolve) {
      dialog.addEventListener("close", function closed() {
        dialog.removeEventListener("close", closed);
        var token = input.value.trim();
        input.value = "";
        resolve(dialog.returnValue === "use" && token ? token : null);
      });
      dialog.returnValue = "";
      dialog.showModal();
      input.focus();
    });
  }

  function send(path, payload, token) {
    var headers = { "Content-Type": "application/json" };
    if (token) headers.Authorization = "Bearer " + token;
    return fetch(path, {
      method: "POST",
      headers: headers,
      body: JSON.stringify(payload)
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (body) {
        return { response: response, body: body };
      });
    });
  }

  var documentsSection = document.getElementById("documents");
  var tokenRequired = Boolean(documentsSection) && documentsSection.getAttribute("data-token-required") === "true";

  function post(path, payload) {
    var token = storedToken();
    if (tokenRequired && !token) {
      return askToken("This edge asks for its API token before it takes an upload or a question.")
        .then(function (typed) {
          if (!typed) return { response: { ok: false, status: 401 }, body: { message: "no token given: nothing was sent" } };
          keepToken(typed);
          return post(path, payload);
        });
    }
    return send(path, payload, token).then(function (r) {
      if (r.response.status !== 401) return r;
      keepToken("");
      var why = token ?
        "The edge refused the token this tab had. Enter its API token to go on." :
        "This edge asks for its API token before it takes an upload or a question.";
      return askToken(why).then(function (typed) {
        if (!typed) return r;  // cancelled: the 401 is shown as it is
        keepToken(typed);
        return post(path, payload);  // the edge refused it and changed nothing: send it again
      });
    });
  }

  function renderExtraction(target, d) {
    var out = [];
    var t = d.trade || {};
    var match = d.match || {};
    var status = (match.status || "MATCH_STATUS_UNSPECIFIED").replace("MATCH_STATUS_", "").toLowerCase();
    var head = el("p", null, "lead");
    head.append(
      el("strong", (t.side || "?") + " " + grouped((t.quantity || {}).value || "?") + " " + (t.security || t.instrumentId || "?")),
      " at " + grouped((t.price || {}).value || "?") + " " + (t.currency || "") +
        ", net " + money(t.netAmount) + ", traded " + dateText(t.tradeDate) + " for settlement " + dateText(t.settleDate) +
        " (" + (t.broker || "broker unknown") + ", " + (t.format || "?") + ")"
    );
    out.push(head);
    var m = el("p", null, "match match-" + status);
    m.append(el("strong", "Match: " + status), match.fillId ? " to fill " + match.fillId : "", match.reason ? ": " + match.reason : "");
    out.push(m);
    if ((match.mismatches || []).length) {
      out.push(table("Where it disagrees with the book", ["Field", "Document", "Book"],
        match.mismatches.map(function (x) { return [x.field, x.documentValue || "", x.bookValue || ""]; }),
        ["", "num", "num"]));
    }
    if (d.breakId) {
      var b = el("p");
      var a = el("a", d.breakId);
      a.href = "/breaks/" + encodeURIComponent(d.breakId);
      b.append("Raised as ", a);
      out.push(b);
    }
    var failures = d.ruleFailures || [];
    var v = el("p", null, failures.length ? "validation bad" : "validation ok");
    v.textContent = failures.length ?
      "Validation: " + failures.length + " rule(s) of its own figures broken" :
      "Validation: its own figures agree (check digits, gross, net, settlement cycle)";
    out.push(v);
    if (failures.length) {
      out.push(table("Rules broken", ["Rule", "What"], failures.map(function (f) { return [f.rule, f.message]; }), ["", ""]));
    }
    (d.warnings || []).forEach(function (w) { out.push(el("p", "Warning: " + w, "muted")); });
    var ccy = t.currency || "";
    out.push(table("Its figures" + (ccy ? " (" + ccy + ")" : ""), ["Figure", "Amount"], [
      ["Quantity", (t.quantity || {}).value || "\u2013"],
      ["Price", (t.price || {}).value || "\u2013"],
      ["Gross amount", amountOf(t.grossAmount)],
      ["Accrued interest", amountOf(t.accruedInterest)],
      ["Commission", amountOf(t.commission)],
      ["Fees", amountOf(t.fees)],
      ["Net amount", amountOf(t.netAmount)]
    ], ["", "num"], "figures"));
    out.push(table("Fields read (" + (d.fields || []).length + ")", ["Field", "Value", "Confidence", "Where"],
      (d.fields || []).map(function (f) {
        var value = NUMERIC.test(String(f.value)) ? grouped(f.value) : f.value;
        return [f.name, value, ((f.confidence || 0) * 100).toFixed(0) + " %", f.snippet || ""];
      }), ["field", "", "num", "snippet"], "fields"));
    target.replaceChildren.apply(target, out);
  }

  function dateText(d) {
    if (!d || !d.year) return "\u2013";
    return d.year + "-" + String(d.month).padStart(2, "0") + "-" + String(d.day).padStart(2, "0");
  }

  var extractForm = document.getElementById("extract-form");
  if (extractForm) {
    extractForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var file = document.getElementById("confirmation-file").files[0];
      var target = document.getElementById("extract-result");
      if (!file) return;
      target.replaceChildren(el("p", "Reading " + file.name + "\u2026", "muted"));
      var reader = new FileReader();
      reader.onload = function () {
        var content = String(reader.result).split(",", 2)[1] || "";
        post("/api/documents/extract", {
          content: content,
          filename: file.name,
          // Other types are read from the content (a browser's guess may not be one documents knows).
          contentType: file.type === "application/pdf" ? file.type : ""
        }).then(function (r) {
          if (!r.response.ok) showError(target, r.response, r.body);
          else renderExtraction(target, r.body);
        }).catch(function (error) {
          target.replaceChildren(el("p", "The edge did not answer: " + error, "notice unavailable"));
        });
      };
      reader.readAsDataURL(file);
    });
  }

  var askForm = document.getElementById("ask-form");
  if (askForm) {
    askForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var question = document.getElementById("question").value.trim();
      var target = document.getElementById("ask-result");
      if (!question) return;
      target.replaceChildren(el("p", "Asking\u2026", "muted"));
      post("/api/documents/ask", { question: question }).then(function (r) {
        if (!r.response.ok) { showError(target, r.response, r.body); return; }
        var d = r.body, out = [];
        out.push(el("p", d.grounded ? "Answered from the policies:" : "Not covered: the policies do not answer this.",
          d.grounded ? "grounded" : "refused"));
        out.push(el("p", d.answer || "", "answer"));
        var citations = d.citations || [];
        if (citations.length) {
          out.push(el("h4", "Citations"));
          var list = el("ol", null, "citations");
          citations.forEach(function (c) {
            var item = el("li");
            item.append(el("strong", c.policyTitle + " v" + c.policyVersion + ", \u201c" + c.section + "\u201d"));
            item.append(el("blockquote", c.text));
            list.appendChild(item);
          });
          out.push(list);
        }
        target.replaceChildren.apply(target, out);
      }).catch(function (error) {
        target.replaceChildren(el("p", "The edge did not answer: " + error, "notice unavailable"));
      });
    });
  }
})();
