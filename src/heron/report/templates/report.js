// Draws the patients, their candidates and the run-to-run changes from the report's JSON
// (the element #report-data, with the "samples" and "dropped_since_last_run" of report.json),
// then wires the tabs and filters. The view lives in the URL fragment
// (#tab=new&new=1&category=clinvar_plp&pheno=1), so a filtered view can be bookmarked or sent
// to a colleague.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"};

  function esc(value) {
    return String(value).replace(/[&<>"']/g, function (c) { return ENTITIES[c]; });
  }
  function known(value, otherwise) {
    return value === null || value === undefined ? otherwise : esc(value);
  }
  // x with d decimals as printf's %.*f writes it: exact ties (3.625) go to the even digit
  function fixed(x, d) {
    var y = x * Math.pow(2, d + 1);  // exact: a tie is an odd multiple of 2^-(d+1)
    if (!Number.isInteger(y) || Math.abs(y % 2) !== 1) return x.toFixed(d);
    var n = Math.floor(x * Math.pow(10, d));
    return ((Math.abs(n % 2) === 0 ? n : n + 1) / Math.pow(10, d)).toFixed(d);
  }
  function f2(x) { return fixed(x, 2); }
  // printf's %.2g (two significant digits, trailing zeros dropped), as the gnomAD AF column
  // has always been written
  function g2(x) {
    if (x === 0) return "0";
    var e = Math.floor(Math.log10(Math.abs(x)));
    if (Math.abs(x) < Math.pow(10, e)) e -= 1;  // log10 is not exact near powers of ten
    var text = twoDigits(x, e);
    if (significant(text).length > 2) text = twoDigits(x, ++e);  // rounded up to 10^(e+1)
    if (e >= -4 && e < 2) {
      return text.indexOf(".") < 0 ? text : text.replace(/0+$/, "").replace(/\.$/, "");
    }
    var digits = significant(text), power = Math.abs(e);
    return (x < 0 ? "-" : "") + (digits[0] + "." + digits[1]).replace(/\.0$/, "") + "e" +
      (e < 0 ? "-" : "+") + (power < 10 ? "0" : "") + power;
  }
  // x rounded to two significant digits, the first at 10^e
  function twoDigits(x, e) {
    return e <= 1 ? fixed(x, 1 - e) : fixed(x / Math.pow(10, e - 1), 0);
  }
  function significant(text) { return text.replace(/[-.]/g, "").replace(/^0+/, ""); }
  function badge(text, kind) {
    return '<span class="badge' + (kind ? " " + esc(kind) : "") + '">' + esc(text) + "</span>";
  }

  function details(c) {
    var cq = c.consequence, pop = c.population, sp = c.score_parts, st = c.change.status;
    var genotypes = Object.keys(c.genotypes).map(function (m) {
      return esc(m) + ": " + esc(c.genotypes[m]);
    }).join(", ");
    var links = Object.keys(c.links).filter(function (k) {
      return /^https:\/\//.test(c.links[k]);  // only the report's own links, never script URLs
    }).map(function (k) {
      return '<a href="' + esc(c.links[k]) + '">' + esc(k) + "</a> ";
    }).join("");
    return "<details><summary>details</summary><dl>" +
      "<dt>genotypes</dt><dd>" + genotypes + "</dd>" +
      (c.partners.length ? "<dt>comp-het partner</dt><dd>" + esc(c.partners.join(", ")) +
        "</dd>" : "") +
      "<dt>score parts</dt><dd>evidence " + f2(sp.evidence) + " + phenotype " +
      f2(sp.phenotype) + " + MOI " + f2(sp.moi) + " − penalty " + f2(sp.penalty) + "</dd>" +
      "<dt>transcript</dt><dd>" + esc(cq.transcript) +
      (cq.mane ? " (MANE)" : cq.canonical ? " (canonical)" : "") + "</dd>" +
      "<dt>population</dt><dd>gnomAD AC " + known(pop.gnomad_ac, "absent") + ", hom " +
      known(pop.gnomad_homozygotes, "absent") + ", hemi " +
      known(pop.gnomad_hemizygotes, "absent") + "; callset AC " + pop.callset_ac + "/" +
      pop.callset_an + "</dd>" +
      "<dt>matched terms</dt><dd>" + (esc(c.phenotype.matched_terms.join(", ")) || "none") +
      "</dd>" +
      "<dt>first tagged</dt><dd>" + known(c.first_tagged, "unknown") + " (evidence updated " +
      known(c.evidence_last_updated, "unknown") + ")</dd>" +
      (c.change.reasons.length ? "<dt>why " + esc(st) + "</dt><dd>" +
        esc(c.change.reasons.join("; ")) + "</dd>" : "") +
      "<dt>links</dt><dd>" + links + "</dd></dl></details>";
  }

  function candidateRow(c) {
    var st = c.change.status, cats = Object.keys(c.categories), cv = c.clinvar;
    var cq = c.consequence, af = c.population.gnomad_af, ph = c.phenotype;
    return '<tr class="candidate" data-status="' + esc(st) + '" data-categories="' +
      esc(cats.join(" ")) + '" data-pheno="' + (ph.matched ? 1 : 0) + '">' +
      "<td>" + c.rank + "</td>" +
      "<td>" + esc(c.variant_id) + (st ? " " + badge(st, st) : "") +
      c.flags.map(function (f) { return " " + badge(f, "flag"); }).join("") + "</td>" +
      "<td>" + esc(c.gene) + "</td><td>" + esc(c.moi) + "</td><td>" +
      cats.map(function (k) {
        return '<span class="badge" title="first seen ' + known(c.categories[k], "unknown") +
          '">' + esc(k) + "</span>";
      }).join("") + "</td>" +
      "<td>" + esc(cq.consequences.join(", ")) + "<br><small>" + esc(cq.hgvsc) + " " +
      esc(cq.hgvsp) + "</small></td>" +
      "<td>" + esc(cv.classification) + (cv.stars ? " (" + cv.stars + "★)" : "") + "</td>" +
      "<td>" + (af === null ? "absent" : g2(af)) + "</td>" +
      "<td>" + f2(ph.score) + (ph.matched ? " ✓" : "") + "</td>" +
      "<td>" + c.score + details(c) + "</td></tr>";
  }

  function patient(sample, rep) {
    var terms = rep.phenotypes.map(function (t) {
      return esc(t) + " " + esc(rep.phenotype_names[t] || "");
    }).join(" · ") || "no HPO terms";
    var body = '<div class="patient" data-sample="' + esc(sample) + '"><h2>' + esc(sample) +
      ' <span class="terms">family ' + esc(rep.family_id) + " · " + esc(rep.sex) +
      '</span></h2><div class="terms">' + terms + "</div>";
    if (!rep.candidates.length) return body + '<p class="none">no candidates</p></div>';
    return body + "<table><thead><tr><th>#</th><th>variant</th><th>gene</th><th>MOI</th>" +
      "<th>categories</th><th>consequence</th><th>ClinVar</th><th>gnomAD AF</th>" +
      "<th>phenotype</th><th>score</th></tr></thead><tbody>" +
      rep.candidates.map(candidateRow).join("") + "</tbody></table>" +
      (rep.below_the_line ? '<p class="none">' + rep.below_the_line +
        " more below the line</p>" : "") + "</div>";
  }

  function draw() {
    var patients = [], changed = [];
    Object.keys(data.samples).forEach(function (sample) {
      var rep = data.samples[sample];
      patients.push(patient(sample, rep));
      rep.candidates.forEach(function (c) {
        if (!c.change.status) return;
        changed.push("<tr><td>" + esc(sample) + "</td><td>" + esc(c.variant_id) + "</td><td>" +
          esc(c.gene) + "</td><td>" + badge(c.change.status, c.change.status) + "</td><td>" +
          esc(c.change.reasons.join("; ")) + "</td></tr>");
      });
    });
    document.getElementById("patients").innerHTML = patients.join("");
    document.querySelector("#new-table tbody").innerHTML = changed.join("");
    var dropped = data.dropped_since_last_run;
    document.getElementById("dropped").innerHTML = dropped.length ?
      '<table id="dropped-table"><thead><tr><th>sample</th><th>variant</th><th>gene</th>' +
      "<th>why</th></tr></thead><tbody>" + dropped.map(function (d) {
        return "<tr><td>" + esc(d.sample) + "</td><td>" + esc(d.variant_id) + "</td><td>" +
          esc(d.gene) + "</td><td>" + esc(d.reason) + "</td></tr>";
      }).join("") + "</tbody></table>" : '<p class="none">nothing dropped</p>';
  }

  var controls = {new: document.getElementById("f-new"),
                  category: document.getElementById("f-cat"),
                  pheno: document.getElementById("f-pheno")};
  function show(tab) {
    document.querySelectorAll("nav button").forEach(function (x) {
      x.classList.toggle("active", x.dataset.tab === tab);
    });
    document.querySelectorAll(".tab").forEach(function (x) {
      x.classList.toggle("active", x.id === tab);
    });
  }
  function state() {
    var tab = document.querySelector("nav button.active").dataset.tab;
    var parts = ["tab=" + tab];
    if (controls.new.checked) parts.push("new=1");
    if (controls.category.value) parts.push("category=" + encodeURIComponent(controls.category.value));
    if (controls.pheno.checked) parts.push("pheno=1");
    history.replaceState(null, "", "#" + parts.join("&"));
  }
  function apply() {
    var cat = controls.category.value, shown = 0;
    document.querySelectorAll("tr.candidate").forEach(function (tr) {
      var ok = (!controls.new.checked || tr.dataset.status !== "") &&
               (!cat || tr.dataset.categories.split(" ").indexOf(cat) >= 0) &&
               (!controls.pheno.checked || tr.dataset.pheno === "1");
      tr.classList.toggle("hidden", !ok);
      if (ok) shown += 1;
    });
    document.getElementById("f-count").textContent = shown + " shown";
  }

  draw();
  var params = {};
  location.hash.replace(/^#/, "").split("&").forEach(function (kv) {
    var i = kv.indexOf("=");
    if (i > 0) params[kv.slice(0, i)] = decodeURIComponent(kv.slice(i + 1));
  });
  controls.new.checked = params.new === "1";
  controls.pheno.checked = params.pheno === "1";
  if (params.category) controls.category.value = params.category;
  if (params.tab && document.getElementById(params.tab)) show(params.tab);
  document.querySelectorAll("nav button").forEach(function (b) {
    b.addEventListener("click", function () { show(b.dataset.tab); state(); });
  });
  Object.keys(controls).forEach(function (k) {
    controls[k].addEventListener("change", function () { apply(); state(); });
  });
  apply();
})();
