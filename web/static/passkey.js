// Passkeys: the "Add a passkey" and "Sign in with a passkey" forms
// (form[data-passkey="register"|"login"]). They stay hidden unless the
// browser supports passkeys; without them the email link still works.
// On submit the script asks the server for the ceremony's options (the
// form's data-begin URL, with the form's fields), runs the browser's
// WebAuthn ceremony, puts its answer in the hidden "credential" input and
// sends the form; the server verifies it.
(function () {
  "use strict";

  if (!window.PublicKeyCredential || !navigator.credentials) return;

  document.querySelectorAll("[data-passkey-ui][hidden]").forEach(function (el) { el.hidden = false; });
  document.querySelectorAll("[data-passkey-unsupported]").forEach(function (el) { el.hidden = true; });

  function toBuffer(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }

  function toBase64url(buf) {
    var bytes = new Uint8Array(buf), bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withIDs(list) {
    return (list || []).map(function (c) { return Object.assign({}, c, { id: toBuffer(c.id) }); });
  }

  // The server's options are WebAuthn's JSON form: binary fields are
  // base64url strings.
  function creationOptions(o) {
    if (typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function") {
      return PublicKeyCredential.parseCreationOptionsFromJSON(o);
    }
    return Object.assign({}, o, {
      challenge: toBuffer(o.challenge),
      user: Object.assign({}, o.user, { id: toBuffer(o.user.id) }),
      excludeCredentials: withIDs(o.excludeCredentials)
    });
  }

  function requestOptions(o) {
    if (typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function") {
      return PublicKeyCredential.parseRequestOptionsFromJSON(o);
    }
    return Object.assign({}, o, { challenge: toBuffer(o.challenge), allowCredentials: withIDs(o.allowCredentials) });
  }

  function credentialJSON(cred) {
    if (typeof cred.toJSON === "function") return cred.toJSON();
    var r = cred.response;
    var out = {
      id: cred.id,
      rawId: toBase64url(cred.rawId),
      type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: { clientDataJSON: toBase64url(r.clientDataJSON) }
    };
    if (r.attestationObject) {
      out.response.attestationObject = toBase64url(r.attestationObject);
      if (r.getTransports) out.response.transports = r.getTransports();
    } else {
      out.response.authenticatorData = toBase64url(r.authenticatorData);
      out.response.signature = toBase64url(r.signature);
      if (r.userHandle) out.response.userHandle = toBase64url(r.userHandle);
    }
    return out;
  }

  // text returns the sentence the page gives the status line for name
  // (data-text-<name>, in the reader's language), else English.
  function text(status, name, english) {
    var key = "text" + name.charAt(0).toUpperCase() + name.slice(1);
    return (status && status.dataset[key]) || english;
  }

  // A failure the user can act on, in words.
  function describe(err, register, status) {
    if (err && err.passkeyMessage) return err.passkeyMessage;
    switch (err && err.name) {
      case "NotAllowedError":
      case "AbortError":
        return register ? text(status, "cancelledAdd", "No passkey was added: the request was cancelled or timed out.") :
          text(status, "cancelled", "The passkey request was cancelled or timed out. Try again, or use an email link.");
      case "InvalidStateError":
        return text(status, "duplicate", "This device already holds a passkey for your account.");
      case "SecurityError":
        return text(status, "insecure", "Passkeys aren’t available at this address.");
      default:
        return text(status, "failed", "Your browser couldn’t use a passkey. Please try again.");
    }
  }

  async function begin(form) {
    var status = form.querySelector("[data-passkey-status]");
    var body = new URLSearchParams(new FormData(form));
    body.delete("credential");
    var res = await fetch(form.dataset.begin, {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      body: body
    });
    var data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    if (!res.ok || !data) {
      var err = new Error("begin failed");
      err.passkeyMessage = (data && data.detail) ||
        (res.status === 429 ? text(status, "tooMany", "Too many attempts. Please wait a moment and try again.") :
          text(status, "error", "Something went wrong. Please try again in a moment."));
      throw err;
    }
    return data;
  }

  async function run(form) {
    var register = form.dataset.passkey === "register";
    var options = await begin(form);
    var cred = register ?
      await navigator.credentials.create({ publicKey: creationOptions(options.publicKey) }) :
      await navigator.credentials.get({ publicKey: requestOptions(options.publicKey) });
    if (!cred) throw new Error("no credential");
    form.querySelector('input[name="credential"]').value = JSON.stringify(credentialJSON(cred));
    form.dataset.passkeyReady = "yes";
    form.submit();
  }

  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.matches("form[data-passkey]") || form.dataset.passkeyReady === "yes") return;
    e.preventDefault();
    var status = form.querySelector("[data-passkey-status]");
    var button = form.querySelector('button[type="submit"]');
    if (button) button.disabled = true;
    if (status) { status.textContent = ""; status.classList.remove("field-error"); }
    run(form).catch(function (err) {
      if (button) button.disabled = false;
      if (status) {
        status.classList.add("field-error");
        status.textContent = describe(err, form.dataset.passkey === "register", status);
      }
    });
  });
})();
