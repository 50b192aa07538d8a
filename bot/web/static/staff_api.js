/* The staff pages' one way to call the staff API (accounts, model, review inbox, figures): JSON in
 * and out, the CSRF token on every change, a lapsed login sent back to the login page, and a refusal
 * as an Error with the server's message (and .status, .code). The console (staff.js) keeps its own:
 * its callers read the status of every answer. */
(function () {
  "use strict";

  window.HelpdeskStaffApi = function (sessionEnded) {
    var csrf = "";

    function fail(message, status, code) {
      var error = new Error(message);
      error.status = status;
      error.code = code;
      return error;
    }

    function request(method, path, body) {
      var headers = {"Accept": "application/json"};
      if (body !== undefined) { headers["Content-Type"] = "application/json"; }
      if (method !== "GET") { headers["X-CSRF-Token"] = csrf; }
      return fetch(path, {method: method, headers: headers, credentials: "same-origin", cache: "no-store",
                          body: body === undefined ? undefined : JSON.stringify(body)})
        .then(function (response) {
          if (response.status === 401) {
            window.location.assign("/staff/login");
            throw fail(sessionEnded(), 401, "login_required");
          }
          return response.json().catch(function () { return {}; }).then(function (data) {
            var error = data.error || {};
            if (!response.ok) { throw fail(error.message || ("HTTP " + response.status), response.status, error.code); }
            return data;
          });
        });
    }

    return {request: request, setCsrf: function (token) { csrf = token || ""; }};
  };
})();
