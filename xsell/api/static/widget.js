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
 *
 * data-datalayer="on" (or the name of another array than window.dataLayer): a shop that tags
 * GA4 sends its view_item, add_to_cart, remove_from_cart and purchase events to xsell (a
 * view_item as a view) as they are pushed
 * (GTM's {event, ecommerce} and gtag's ("event", name, params) alike; the entries already in
 * the array when the script loads too), with data-key, data-user and data-token. Event ids are
 * stable: a reloaded page does not count twice (docs/integrations.md). Purchases need
 * XSELL_API_PUBLIC_PURCHASES=true on the API.
 *
 * Bundles: data-bundle-item="ITEM_ID" (a product page) renders that item's bundle into
 * data-bundle-target (default #xsell-bundle): its items, "Buy all 3 for $X (save $Y)" and a
 * button that calls onAdd(itemId, message) for every item, message.bundle_id set (the shop's
 * order lines should carry it: the report counts the bundles orders carry). A page may call
 * window.xsellWidget.showBundle(itemId, target) itself (the cart's main item; again when the
 * cart changes: one request per item and page). Prices are shown with
 * xsellConfig.formatPrice(number) if set, else "$" and two decimals; xsellConfig.inCart(itemId,
 * bundle), if set, tells whether an item is in the cart as part of that bundle: when all are,
 * the button says so and is disabled.
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
    if (b.co_viewed) {  // the product page's co-view partners (no co-purchases yet)
      return "Viewed with " + (cfg().itemName || String)(b.item_id) + " by " +
        Math.round(b.co_viewed) + " shoppers";
    }
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

  // ---- bundles: "Buy all 3 for $X (save $Y)" (GET /v1/items/{item_id}/bundle) ----
  var bundles = {};  // item id -> the promise of its bundle answer (null: none): one request

  function money(x) {
    return cfg().formatPrice ? String(cfg().formatPrice(x)) : "$" + Number(x).toFixed(2);
  }

  function fetchBundle(itemId) {
    if (!(itemId in bundles)) {
      var url = api + "/v1/items/" + encodeURIComponent(itemId) + "/bundle" +
        (data.user ? "?user_id=" + encodeURIComponent(data.user) : "");
      bundles[itemId] = fetch(url, {
        headers: { "Authorization": "Bearer " + (data.key || ""),
                   "X-User-Token": data.token || "" }
      }).then(function (answer) { return answer.ok ? answer.json() : null; })
        .catch(function () { return null; });  // no bundle: the box stays empty
    }
    return bundles[itemId];
  }

  function bundleText(bundle) {
    var text = "Buy all " + bundle.items.length;
    if (bundle.bundle_price === null || bundle.bundle_price === undefined) { return text; }
    text += " for " + money(bundle.bundle_price);
    var saved = Math.round((bundle.list_price - bundle.bundle_price) * 100) / 100;
    if (bundle.list_price !== null && saved > 0) { text += " (save " + money(saved) + ")"; }
    return text;
  }

  function renderBundle(bundle, target) {
    target.textContent = "";
    target.removeAttribute("data-bundle-id");
    if (!bundle || !bundle.items || bundle.items.length < 2) { return; }
    target.setAttribute("data-bundle-id", bundle.bundle_id);
    target.appendChild(el("div", "xsell-title", data.bundleTitle || "Bought together"));
    var list = el("ul", "xsell-bundle-items");
    bundle.items.forEach(function (item) {
      var li = el("li", "xsell-bundle-item", (cfg().itemName || String)(item.item_id));
      li.setAttribute("data-item-id", item.item_id);
      list.appendChild(li);
    });
    target.appendChild(list);
    target.appendChild(el("div", "xsell-bundle-price", bundleText(bundle)));
    if (bundle.incentive && bundle.incentive.loyalty_points) {
      target.appendChild(el("div", "xsell-why",
        "+" + bundle.incentive.loyalty_points + " loyalty points"));
    }
    if (cfg().onAdd) {  // each item through the shop's own add, with the bundle's id
      var button = el("button", "xsell-add xsell-add-bundle",
        "Add all " + bundle.items.length + " to cart");
      var inCart = cfg().inCart;
      if (inCart && bundle.items.every(function (i) { return inCart(i.item_id, bundle); })) {
        button.textContent = "In your cart";  // the shop says it holds the whole bundle
        button.disabled = true;
      }
      button.addEventListener("click", function () {
        var message = { bundle_id: bundle.bundle_id, suggestion_id: null, placement: "bundle",
                        user_id: bundle.user_id, bundle: bundle };
        bundle.items.forEach(function (item) { cfg().onAdd(item.item_id, message); });
      });
      target.appendChild(button);
    }
  }

  // the bundle of itemId (the product's, or the cart's main item's) into target (a selector
  // or an element); null/"" empties it. Resolves to the bundle answer or null.
  function showBundle(itemId, target) {
    var node = typeof target === "string" ? document.querySelector(target) : target;
    if (!node) { return Promise.resolve(null); }
    node.setAttribute("data-anchor", itemId || "");
    if (!itemId) { renderBundle(null, node); return Promise.resolve(null); }
    return fetchBundle(itemId).then(function (bundle) {
      if (node.getAttribute("data-anchor") === itemId) { renderBundle(bundle, node); }
      return bundle;
    });
  }

  // ---- GA4 dataLayer (data-datalayer) ----
  var GA4_TYPES = { add_to_cart: "add_to_cart", remove_from_cart: "remove_from_cart",
                    purchase: "purchase", view_item: "view" };

  function hash(text) {  // two FNV-1a 32-bit hashes: 16 hex digits, stable across reloads
    var a = 0x811c9dc5, b = 0x01000193 ^ 0x5bd1e995;
    for (var i = 0; i < text.length; i++) {
      var c = text.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193) >>> 0;
      b = Math.imul(b ^ c, 0x5bd1e995) >>> 0;
    }
    return ("0000000" + a.toString(16)).slice(-8) + ("0000000" + b.toString(16)).slice(-8);
  }

  function number(value) {
    var n = typeof value === "string" ? parseFloat(value) : value;
    return typeof n === "number" && isFinite(n) && n >= 0 ? n : undefined;
  }

  function ga4Entry(entry) {  // {name, params} of a GA4 event entry, or null
    if (!entry || typeof entry !== "object") { return null; }
    if (typeof entry.event === "string" && entry.ecommerce) {  // GTM: {event, ecommerce}
      return { name: entry.event, params: entry.ecommerce };
    }
    if (entry.length >= 3 && entry[0] === "event" && entry[2]) {  // gtag: arguments
      return { name: String(entry[1]), params: entry[2] };
    }
    return null;
  }

  function ga4Lines(params) {  // the order lines of GA4 items (item_id, quantity, price)
    var items = Array.isArray(params.items) ? params.items : [];
    return items.map(function (item) {
      var line = { item_id: item && String(item.item_id || item.id || "") };
      var quantity = number(item && item.quantity);
      var price = number(item && item.price);
      if (quantity !== undefined) { line.quantity = quantity; }
      if (price !== undefined) { line.price = price; }
      return line;
    }).filter(function (line) { return line.item_id; });
  }

  function ga4Events(entry, index) {  // xsell events of one dataLayer entry
    var found = ga4Entry(entry);
    var type = found && GA4_TYPES[found.name];
    if (!type || !data.user) { return []; }
    var lines = ga4Lines(found.params);
    var ts = Date.now() / 1000;
    if (type === "purchase") {
      var order = String(found.params.transaction_id || "").slice(0, 100);
      if (!order || !lines.length) { return []; }
      return [{ event_id: "ga4-purchase-" + order, type: "purchase", order_id: "ga4:" + order,
                user_id: data.user, ts: ts, items: lines }];
    }
    // the same entry at the same place of the same page is the same event (a reload)
    var base = "ga4-" + hash([data.user, location.pathname, index, JSON.stringify(found)]
      .join("|"));
    return lines.map(function (line, n) {
      var event = { event_id: base + "-" + n, type: type, user_id: data.user,
                    item_id: line.item_id, ts: ts };
      if (line.quantity !== undefined) { event.quantity = line.quantity; }
      if (line.price !== undefined) { event.price = line.price; }
      return event;
    });
  }

  function send(events) {
    if (!events.length) { return; }
    fetch(api + "/v1/events", {
      method: "POST", body: JSON.stringify(events),
      headers: { "Authorization": "Bearer " + (data.key || ""), "X-User-Token": data.token || "",
                 "Content-Type": "application/json" }
    }).catch(function () { /* best effort: the shop's own GA4 tagging is unaffected */ });
  }

  function read(entries, start) {  // the events of entries from place `start` on
    var events = [];
    for (var i = 0; i < entries.length; i++) {
      try { events = events.concat(ga4Events(entries[i], start + i)); } catch (err) { /* skip */ }
    }
    send(events);
  }

  function listen(name) {
    var layer = window[name] = window[name] || [];
    read(layer, 0);
    var push = layer.push;
    layer.push = function () {
      var start = layer.length;
      var result = push.apply(layer, arguments);
      read(arguments, start);
      return result;
    };
  }

  window.xsellWidget = { render: render, ga4Events: ga4Events, showBundle: showBundle };
  if (data.user) { connect(); }
  if (data.bundleItem) { showBundle(data.bundleItem, data.bundleTarget || "#xsell-bundle"); }
  if (data.datalayer && data.datalayer !== "off") {
    listen(data.datalayer === "on" ? "dataLayer" : data.datalayer);
  }
})();
