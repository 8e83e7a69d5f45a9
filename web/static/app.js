// Atrium's one script. Every page works without it; it only makes a few
// things smoother:
//   - header menus (<details>) close on Escape, on a click outside, and when
//     another one opens;
//   - a form marked data-confirm asks in a <dialog> instead of loading the
//     server's confirmation page (the server still requires confirm=yes);
//   - hidden inputs named "tz" get the browser's time zone;
//   - buttons marked data-copy (hidden until now) copy the text of the
//     element they name and say so in the page's [data-copy-status].
//   - the members page's Actions buttons open one shared menu under the
//     chosen row instead of leading to the member's page.
(function () {
  "use strict";

  function closeMenus(except) {
    document.querySelectorAll("details.menu[open]").forEach(function (d) {
      if (d !== except && !d.contains(except)) d.removeAttribute("open");
    });
  }
  document.addEventListener("toggle", function (e) {
    var d = e.target;
    if (d.matches && d.matches("details.menu") && d.open) closeMenus(d);
  }, true);
  document.addEventListener("click", function (e) {
    if (!e.target.closest("details.menu")) closeMenus(null);
  });
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") return;
    var open = document.querySelector("details.menu[open]");
    if (open) {
      open.removeAttribute("open");
      open.querySelector("summary").focus();
    }
  });

  // The members page's row menu: one menu, moved under the chosen row's
  // Actions button and pointed at its member (the button's href is the
  // member's page; data-acts says which actions to show).
  var rowMenu = document.getElementById("member-menu");
  var rowButton = null;
  function closeRowMenu(focus) {
    if (!rowButton) return;
    rowMenu.hidden = true;
    rowButton.setAttribute("aria-expanded", "false");
    if (focus) rowButton.focus();
    rowButton = null;
  }
  if (rowMenu) {
    document.querySelectorAll("a[data-acts]").forEach(function (a) {
      a.setAttribute("role", "button");
      a.setAttribute("aria-expanded", "false");
      a.setAttribute("aria-controls", "member-menu");
    });
    document.addEventListener("click", function (e) {
      var a = e.target.closest && e.target.closest("a[data-acts]");
      if (!a) {
        if (rowButton && !rowMenu.contains(e.target)) closeRowMenu(false);
        return;
      }
      e.preventDefault();
      if (rowButton === a) { closeRowMenu(false); return; }
      closeRowMenu(false);
      closeMenus(null);
      var acts = a.dataset.acts.split(" ");
      var base = a.getAttribute("href");
      rowMenu.querySelectorAll("li[data-act]").forEach(function (li) {
        var act = li.dataset.act, b = li.querySelector("button");
        li.hidden = acts.indexOf(act) < 0;
        if (act === "transfer") b.value = base.split("/").pop();
        else b.setAttribute("formaction", base + (act === "remove" ? "/remove" : "/role"));
      });
      a.parentNode.appendChild(rowMenu);
      rowMenu.hidden = false;
      a.setAttribute("aria-expanded", "true");
      rowButton = a;
      var first = rowMenu.querySelector("li:not([hidden]) button");
      if (first) first.focus();
    });
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && rowButton) closeRowMenu(true);
    });
  }

  // The time zone for forms that ask for it (sign-in, account).
  var tz = "";
  try { tz = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (err) { tz = ""; }
  document.querySelectorAll('input[type="hidden"][name="tz"]').forEach(function (i) {
    if (!i.value) i.value = tz;
  });

  // A page that hands over to another site (a workspace's identity
  // provider) follows its link at once; without scripts the link stays.
  var follow = document.querySelector("a[data-follow]");
  if (follow) window.location.replace(follow.href);

  // Confirmation dialogs.
  var dialog = null;
  var text = {
    title: document.body.dataset.textConfirmTitle || "Are you sure?",
    confirm: document.body.dataset.textConfirm || "Confirm",
    cancel: document.body.dataset.textCancel || "Cancel"
  };
  function buildDialog() {
    dialog = document.createElement("dialog");
    dialog.className = "confirm-dialog";
    dialog.setAttribute("data-testid", "confirm-dialog");
    dialog.setAttribute("aria-labelledby", "confirm-dialog-title");
    dialog.innerHTML =
      '<form method="dialog" class="stack-sm">' +
      '<h2 id="confirm-dialog-title" class="confirm-dialog-title"></h2>' +
      '<p class="confirm-dialog-text" data-testid="confirm-dialog-text"></p>' +
      '<div class="confirm-dialog-actions">' +
      '<button type="button" class="btn btn-secondary" value="cancel" data-testid="confirm-dialog-cancel"></button>' +
      '<button type="submit" class="btn btn-danger" value="ok" data-testid="confirm-dialog-ok"></button>' +
      "</div></form>";
    // The layout gives the dialog's fixed words in the page's language.
    dialog.querySelector('[value="cancel"]').textContent = text.cancel;
    document.body.appendChild(dialog);
    dialog.querySelector('[value="cancel"]').addEventListener("click", function () { dialog.close("cancel"); });
    return dialog;
  }

  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.matches("form[data-confirm]") || form.dataset.confirmed === "yes") return;
    if (typeof HTMLDialogElement !== "function") return; // the server asks instead
    e.preventDefault();
    // A form shared by many rows (the members page) names the row's member
    // or invitee as "{name}": an invite's buttons carry it in data-name, a
    // member's is the first text of the row's .member-name.
    var submitter = e.submitter || null;
    var holder = submitter && submitter.closest("[data-name]");
    var member = submitter && submitter.closest("tr") && submitter.closest("tr").querySelector(".member-name");
    var name = holder ? holder.dataset.name : member ? member.firstChild.textContent.trim() : "";
    var words = function (s) { return name ? s.split("{name}").join(name) : s; };
    var d = dialog || buildDialog();
    d.querySelector(".confirm-dialog-title").textContent = words(form.dataset.confirmTitle || text.title);
    d.querySelector(".confirm-dialog-text").textContent = words(form.dataset.confirm);
    var ok = d.querySelector('[value="ok"]');
    ok.textContent = form.dataset.confirmLabel || text.confirm;
    d.onclose = function () {
      if (d.returnValue !== "ok") return;
      var h = document.createElement("input");
      h.type = "hidden"; h.name = "confirm"; h.value = "yes";
      form.appendChild(h);
      form.dataset.confirmed = "yes";
      // requestSubmit sends the submitter's formaction, name and value too;
      // the form is left as it was for the next row (or a return by Back).
      if (submitter && form.requestSubmit) form.requestSubmit(submitter); else form.submit();
      form.removeChild(h);
      delete form.dataset.confirmed;
    };
    d.returnValue = "";
    d.showModal();
    d.querySelector('[value="cancel"]').focus();
  });

  // Copy buttons: the text stays selectable without them.
  // The page writes what to say in the reader's language (data-copy-done,
  // data-copy-failed); the English below is for a page that does not.
  function copied(btn, ok) {
    var status = document.querySelector("[data-copy-status]");
    var what = btn.textContent.replace(/^Copy /, "");
    var said = ok ? btn.dataset.copyDone : btn.dataset.copyFailed;
    if (status) status.textContent = said || (ok ? "Copied the " + what + "." : "Select the " + what + " and copy it.");
    btn.setAttribute("data-copied", ok ? "yes" : "no");
  }
  document.querySelectorAll("button[data-copy]").forEach(function (btn) {
    var target = document.getElementById(btn.getAttribute("data-copy"));
    if (!target) return;
    btn.hidden = false;
    btn.addEventListener("click", function () {
      var text = "value" in target && target.tagName === "INPUT" ? target.value : target.textContent;
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(function () { copied(btn, true); }, function () { copied(btn, false); });
        return;
      }
      copied(btn, false);
    });
  });
})();

// Recovery codes (page RecoveryCodes): Copy, Download .txt and Print
// buttons over the codes, which stay selectable text without scripts.
(function () {
  "use strict";
  var list = document.querySelector("[data-recovery-codes]");
  var tools = document.querySelector("[data-recovery-tools]");
  if (!list || !tools) return;
  var text = list.getAttribute("data-recovery-codes");
  var status = tools.querySelector("[data-recovery-status]");
  var say = function (msg) { if (status) status.textContent = msg; };
  tools.hidden = false;

  var copy = tools.querySelector("[data-recovery-copy]");
  if (navigator.clipboard && window.isSecureContext) {
    copy.addEventListener("click", function () {
      navigator.clipboard.writeText(text).then(
        function () { say("Copied. Paste them into your password manager."); },
        function () { say("Couldn’t copy: select the codes and copy them by hand."); });
    });
  } else {
    copy.hidden = true;
  }

  tools.querySelector("[data-recovery-download]").addEventListener("click", function () {
    var url = URL.createObjectURL(new Blob([text], { type: "text/plain;charset=utf-8" }));
    var a = document.createElement("a");
    a.href = url;
    a.download = list.getAttribute("data-recovery-file") || "recovery-codes.txt";
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
    say("Downloaded. Keep the file somewhere only you can reach.");
  });

  tools.querySelector("[data-recovery-print]").addEventListener("click", function () {
    window.print();
  });
})();
