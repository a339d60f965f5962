/* Consentry's embeddable consent form: one <script> tag on the retailer's own page.

     <script src="https://consent.example.com/static/consentry-form.js"
             data-point="cp_…" data-key="pk_…" data-lang="de" async></script>

   A custom element, <consentry-form>, drawn in the page's own DOM (the shop's styles apply, and
   assistive technology reads it as part of the page), not an iframe: it needs no cookies at
   all, so blocked third-party cookies change nothing. It reads the form from Consentry (CORS:
   only the point's listed origins), shows every box unticked, and posts what was shown and
   chosen; a box left unticked is sent as not chosen. No dependencies, no tracking. */
(function () {
  "use strict";
  var script = document.currentScript;
  var hub = script ? new URL(script.src).origin : "";
  var uid = 0;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) node.textContent = text;
    return node;
  }

  // A plain layout the shop's style sheet can override (class names consentry-*). Set through
  // the CSSOM, which a shop's Content-Security-Policy allows where style attributes are not.
  function look(node, styles) {
    Object.keys(styles).forEach(function (k) { node.style[k] = styles[k]; });
    return node;
  }

  class ConsentryForm extends HTMLElement {
    connectedCallback() {
      if (this.started) return;
      this.started = true;
      this.hub = this.getAttribute("hub") || hub;
      this.point = this.getAttribute("point");
      this.key = this.getAttribute("key");
      this.lang = this.getAttribute("lang") || document.documentElement.lang || "en";
      var url = this.hub + "/v1/collection-points/" + encodeURIComponent(this.point) +
        "/form?key=" + encodeURIComponent(this.key) + "&lang=" + encodeURIComponent(this.lang);
      var self = this;
      fetch(url, { credentials: "omit" })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (form) { self.draw(form); })
        .catch(function () { self.textContent = ""; });
    }

    draw(form) {
      var id = "consentry-" + (++uid);
      var f = el("form", { "class": "consentry-form", lang: form.lang, novalidate: "" });
      var set = el("fieldset");
      set.appendChild(el("legend", {}, form.heading));
      var who = null;
      if (form.identify_by) {
        var type = form.identify_by === "email" ? "email" : "text";
        set.appendChild(look(el("label", { "for": id + "-who" }, form.identify_label), { display: "block" }));
        who = el("input", {
          id: id + "-who", name: form.identify_by, type: type, required: "",
          autocomplete: form.identify_by === "email" ? "email" : "off"
        });
        set.appendChild(look(who, { display: "block", marginBottom: "0.75em", maxWidth: "100%" }));
      }
      var boxes = form.boxes.map(function (box, i) {
        var row = look(el("div", { "class": "consentry-box" }), { margin: "0.5em 0" });
        var input = el("input", { type: "checkbox", id: id + "-box-" + i, "aria-describedby": id + "-notice-" + i });
        row.appendChild(input);
        row.appendChild(el("label", { "for": id + "-box-" + i }, " " + box.label));
        row.appendChild(look(el("small", { id: id + "-notice-" + i, "class": "consentry-notice" },
          box.notice_title + ": " + box.notice), { display: "block", marginLeft: "1.75em" }));
        set.appendChild(row);
        return { box: box, input: input };
      });
      var policy = el("a", { href: form.policy_url, target: "_blank", rel: "noopener" }, form.policy_label);
      set.appendChild(el("p")).appendChild(policy);
      set.appendChild(el("button", { type: "submit" }, form.submit));
      var status = el("p", { role: "status", "aria-live": "polite" });
      f.appendChild(set);
      f.appendChild(status);
      var self = this;
      f.addEventListener("submit", function (event) {
        event.preventDefault();
        if (who && !who.checkValidity()) { who.reportValidity(); return; }
        var button = f.querySelector("button");
        button.disabled = true;
        var body = {
          version: form.version, wording: form.wording, lang: form.lang,
          choices: boxes.map(function (b) {
            return { purpose: b.box.purpose, channel: b.box.channel,
                     notice_version: b.box.notice_version, chosen: b.input.checked };
          })
        };
        if (who) { body.identifiers = {}; body.identifiers[form.identify_by] = who.value.trim(); }
        fetch(self.hub + "/v1/collection-points/" + encodeURIComponent(form.point) + "/submissions", {
          method: "POST", credentials: "omit",
          headers: { "Content-Type": "application/json", "Authorization": "Bearer " + self.key },
          body: JSON.stringify(body)
        })
          .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, body: j }; }); })
          .then(function (answer) {
            if (!answer.ok) throw new Error(answer.body.detail || "error");
            status.textContent = answer.body.awaiting_confirmation ? form.confirm_hint : form.thanks;
            self.dispatchEvent(new CustomEvent("consentry-submitted", { detail: answer.body, bubbles: true }));
          })
          .catch(function (error) {
            status.textContent = String(error.message || error);
            button.disabled = false;
          });
      });
      this.textContent = "";
      this.appendChild(f);
    }
  }

  if (!customElements.get("consentry-form")) customElements.define("consentry-form", ConsentryForm);
  if (script && script.dataset.point) {
    var form = document.createElement("consentry-form");
    form.setAttribute("hub", hub);
    form.setAttribute("point", script.dataset.point);
    form.setAttribute("key", script.dataset.key || "");
    if (script.dataset.lang) form.setAttribute("lang", script.dataset.lang);
    script.parentNode.insertBefore(form, script.nextSibling);
  }
})();
