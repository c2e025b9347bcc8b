/* xsell storefront widget: renders a user's cross-sell offers live, from the API's stream.
 *
 *   <div id="xsell-offers"></div>
 *   <script src="https://API-HOST/widget.js" data-key="PUBLIC_KEY" data-user="USER_ID"
 *           data-token="USER_TOKEN" data-target="#xsell-offers"></script>
 *
 * Optional attributes: data-api (default: where this script came from), data-placement
 * (cart | post_purchase | any; default cart), data-title, data-feedback ("off" sends no
 * impression/click events). Optional hooks, set before or after the script:
 * window.xsellConfig = {itemName(id), itemUrl(id), itemPrice(id), onSuggestion(message),
 * onAdd(itemId, message)}: itemPrice returns the price as text to show (e.g. "$21.99");
 * onAdd should put the item in the cart with the message's suggestion_id (explicit
 * attribution). No dependencies; nothing loads from anywhere else.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) { return; }
  var data = script.dataset;
  var api = (data.api || new URL(script.src).origin).replace(/\/$/, "");
  var placement = data.placement || "cart";
  var title = data.title || "Goes well with";
  var cfg = function () { return window.xsellConfig || {}; };

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  var sentImpressions = {};

  function feedback(type, message, itemId) {
    if (data.feedback === "off" || !message.user_id) { return; }
    var event = { event_id: "fb-" + type + "-" + message.suggestion_id + "-" + (itemId || ""),
                  type: type, suggestion_id: message.suggestion_id, user_id: message.user_id,
                  ts: Date.now() / 1000 };
    if (itemId) { event.item_id = itemId; }
    fetch(api + "/v1/events", {
      method: "POST", body: JSON.stringify(event),
      headers: { "Authorization": "Bearer " + (data.key || ""), "X-User-Token": data.token || "",
                 "Content-Type": "application/json" }
    }).catch(function () { /* feedback is best effort */ });
  }

  function why(offer) {
    var b = offer.because;
    if (offer.kind === "popular" || !b) { return "Popular right now"; }
    var anchor = (cfg().itemName || String)(b.item_id);
    var share = Math.round(b.confidence * 100);
    return "Bought together by " + share + "% of buyers of " + anchor;
  }

  function render(message) {
    var target = document.querySelector(data.target || "#xsell-offers");
    if (!target) { return; }
    if (placement !== "any" && message.placement !== placement) { return; }
    target.textContent = "";
    target.setAttribute("data-suggestion-id", message.suggestion_id);
    if (!message.items || !message.items.length) { return; }
    target.appendChild(el("div", "xsell-title", title));
    var list = el("ul", "xsell-list");
    message.items.slice(0, 3).forEach(function (offer) {
      var item = el("li", "xsell-offer xsell-" + offer.kind);
      item.setAttribute("data-item-id", offer.item_id);
      var name = (cfg().itemName || String)(offer.item_id);
      var url = cfg().itemUrl && cfg().itemUrl(offer.item_id);
      var label = el(url ? "a" : "span", "xsell-name", name);
      if (url) { label.href = url; }
      item.appendChild(label);
      var price = cfg().itemPrice && cfg().itemPrice(offer.item_id);
      if (price) { item.appendChild(el("span", "xsell-price", String(price))); }
      if (offer.kind === "upsell") { item.appendChild(el("span", "xsell-badge", "upgrade")); }
      item.appendChild(el("span", "xsell-why", why(offer)));
      if (cfg().onAdd) {
        var button = el("button", "xsell-add", "Add");
        button.addEventListener("click", function () {
          feedback("click", message, offer.item_id);
          cfg().onAdd(offer.item_id, message);
        });
        item.appendChild(button);
      }
      list.appendChild(item);
    });
    target.appendChild(list);
    if (!sentImpressions[message.suggestion_id]) {  // one impression per suggestion shown
      sentImpressions[message.suggestion_id] = true;
      feedback("impression", message, null);
    }
    if (cfg().onSuggestion) { cfg().onSuggestion(message); }
  }

  function connect() {
    var url = api + "/v1/users/" + encodeURIComponent(data.user) + "/suggestions/stream" +
      "?key=" + encodeURIComponent(data.key || "") +
      "&token=" + encodeURIComponent(data.token || "");
    var source = new EventSource(url);
    source.addEventListener("suggestion", function (event) {
      try { render(JSON.parse(event.data)); } catch (err) { /* a bad message: skip it */ }
    });
    source.addEventListener("forget", function () {
      source.close();
      render({ placement: placement, items: [], suggestion_id: "" });
    });
    // EventSource reconnects by itself and sends Last-Event-ID: the API resumes from there
  }

  window.xsellWidget = { render: render };
  if (data.user) { connect(); }
})();
