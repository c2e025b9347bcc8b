/* The demo shop's page: a catalogue, a cart, the xsell widget for the offers. It talks to the
 * xsell API with the public key and the visitor's user token only (window.XSELL_DEMO, from
 * the page server); the checkout goes through the shop's backend (/checkout). */
(function () {
  "use strict";
  var demo = window.XSELL_DEMO;
  var byId = {};
  demo.catalog.forEach(function (item) { byId[item.item_id] = item; });
  var cart = [];

  function money(x) { return x == null ? "" : "$" + Number(x).toFixed(2); }
  function name(id) { return (byId[id] && byId[id].name) || id; }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function addToCart(id, suggestionId) {
    if (cart.indexOf(id) >= 0) { return; }
    cart.push(id);
    renderCart();
    var event = { event_id: "web-" + Date.now() + "-" + Math.random().toString(16).slice(2),
                  type: "add_to_cart", user_id: demo.user, item_id: id, ts: Date.now() / 1000 };
    if (suggestionId) { event.suggestion_id = suggestionId; }  // explicit attribution
    fetch(demo.api + "/v1/events", {
      method: "POST",
      headers: { "Authorization": "Bearer " + demo.key, "X-User-Token": demo.token,
                 "Content-Type": "application/json" },
      body: JSON.stringify(event)
    }).then(function (answer) {
      status(answer.ok ? "" : "the API said " + answer.status);
    }).catch(function () { status("the API is unreachable"); });
  }

  function status(text) { document.getElementById("cart-status").textContent = text; }

  function renderCart() {
    var list = document.getElementById("cart-items");
    list.textContent = "";
    if (!cart.length) { list.appendChild(el("li", "empty", "empty")); }
    cart.forEach(function (id) {
      var line = el("li", "cart-item", name(id) + " ");
      line.appendChild(el("span", "price", money(byId[id] && byId[id].price)));
      list.appendChild(line);
    });
    document.getElementById("checkout").disabled = !cart.length;
  }

  function renderCatalogue() {
    var root = document.getElementById("catalogue");
    var anchors = {};
    demo.catalog.forEach(function (item) {
      var dep = (item.item_id.match(/^(.*)-\d+$/) || [null, item.category])[1];
      (anchors[dep] = anchors[dep] || []).push(item);
    });
    // departments in catalogue order: each anchor category, then its add-ons
    Object.keys(anchors).forEach(function (dep) {
      root.appendChild(el("h2", "department", dep.replace(/-/g, " ")));
      anchors[dep].forEach(function (item) {
        var card = el("div", "card");
        card.setAttribute("data-item-id", item.item_id);
        card.setAttribute("data-category", item.category || "");
        card.appendChild(el("div", "name", item.name || item.item_id));
        var soldOut = item.stock === 0 || item.active === false;
        var meta = el("div", "meta");
        meta.appendChild(el("span", "price", money(item.price)));
        if (soldOut) { meta.appendChild(document.createTextNode(" · sold out")); }
        card.appendChild(meta);
        var button = el("button", "add", "Add to cart");
        button.id = "add-" + item.item_id;
        button.disabled = soldOut;
        button.addEventListener("click", function () { addToCart(item.item_id); });
        card.appendChild(button);
        root.appendChild(card);
      });
    });
  }

  document.getElementById("checkout").addEventListener("click", function () {
    var items = cart.slice();
    fetch("/checkout", { method: "POST", body: JSON.stringify({ items: items }) })
      .then(function (answer) {
        status(answer.ok ? "Thank you! Bought " + items.length + " item(s)." : "checkout failed");
        if (answer.ok) { cart = []; renderCart(); }
      });
  });

  // the notifications xsell sent to this visitor (the page server reads the notifications
  // topic as a push sender would, and shows them here)
  var notified = {};
  function pollNotifications() {
    fetch("/notifications.json").then(function (answer) { return answer.json(); })
      .then(function (messages) {
        var list = document.getElementById("notifications");
        messages.slice().reverse().forEach(function (m) {
          if (notified[m.notification_id]) { return; }
          notified[m.notification_id] = true;
          var why = m.reason === "cart_abandoned" ? "You left items in your cart. "
            : "Thanks for your order! ";
          var li = el("li", "notification",
            "[" + m.channel + "] " + why + "Maybe: " + m.items.map(function (o) {
              return name(o.item_id);
            }).join(", "));
          li.dataset.notificationId = m.notification_id;
          list.insertBefore(li, list.firstChild);
        });
        if (messages.length) { document.getElementById("notifications-box").hidden = false; }
      }).catch(function () {});
  }
  setInterval(pollNotifications, 2000);

  window.xsellConfig = {
    itemName: name,
    itemPrice: function (id) { return money(byId[id] && byId[id].price); },
    onAdd: function (id, message) { addToCart(id, message && message.suggestion_id); }
  };
  renderCatalogue();
  renderCart();
  var widget = document.createElement("script");
  widget.src = demo.api + "/widget.js";
  widget.dataset.key = demo.key;
  widget.dataset.user = demo.user;
  widget.dataset.token = demo.token;
  widget.dataset.target = "#xsell-offers";
  widget.dataset.placement = "any";
  document.body.appendChild(widget);
})();
