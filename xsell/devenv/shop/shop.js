/* The demo shop's page: a catalogue, a cart, the xsell widget for the offers. It talks to the
 * xsell API with the public key and the visitor's user token only (window.XSELL_DEMO, from
 * the page server); the checkout goes through the shop's backend (/checkout). */
(function () {
  "use strict";
  var demo = window.XSELL_DEMO;
  var byId = {};
  demo.catalog.forEach(function (item) { byId[item.item_id] = item; });
  var cart = [];
  var bundleOf = {};  // item in the cart -> the bundle id it was added with ("Buy all 3")
  var bundleAnswers = {};  // bundle id -> the API's bundle answer (its prices)

  function money(x) { return x == null ? "" : "$" + Number(x).toFixed(2); }
  function name(id) { return (byId[id] && byId[id].name) || id; }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function addToCart(id, suggestionId, bundle) {
    if (bundle) {  // the line carries the bundle's id, already in the cart or not
      bundleOf[id] = bundle.bundle_id;
      bundleAnswers[bundle.bundle_id] = bundle;
    }
    if (cart.indexOf(id) >= 0) { renderCart(); return; }
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

  // the price of a cart line: the catalogue's, or its share of the bundle price when every
  // item of its bundle is in the cart with that bundle's id (the discount, line by line)
  function linePrice(id) {
    var price = byId[id] && byId[id].price;
    var bundle = bundleAnswers[bundleOf[id]];
    if (price == null || !bundle || bundle.bundle_price == null || !bundle.list_price) {
      return price;
    }
    var whole = bundle.items.every(function (item) {
      return cart.indexOf(item.item_id) >= 0 && bundleOf[item.item_id] === bundle.bundle_id;
    });
    return whole ? Math.round(price * bundle.bundle_price / bundle.list_price * 100) / 100
      : price;
  }

  function renderCart() {
    var list = document.getElementById("cart-items");
    list.textContent = "";
    if (!cart.length) { list.appendChild(el("li", "empty", "empty")); }
    cart.forEach(function (id) {
      var line = el("li", "cart-item", name(id) + " ");
      line.setAttribute("data-item-id", id);
      if (bundleOf[id]) {
        line.setAttribute("data-bundle-id", bundleOf[id]);
        line.appendChild(el("span", "tag", "bundle"));
      }
      line.appendChild(el("span", "price", money(linePrice(id))));
      list.appendChild(line);
    });
    document.getElementById("checkout").disabled = !cart.length;
    // "Buy all 3" of the cart's main item (its first), and the viewed product's again
    if (window.xsellWidget) { window.xsellWidget.showBundle(cart[0] || "", "#xsell-bundle-cart"); }
    var viewed = document.getElementById("product").getAttribute("data-item-id");
    if (viewed && window.xsellWidget) {
      window.xsellWidget.showBundle(viewed, "#xsell-bundle-product");
    }
  }

  // the product page: the item, its add button and its bundle
  function showProduct(id) {
    var box = document.getElementById("product");
    box.hidden = false;
    box.setAttribute("data-item-id", id);
    document.getElementById("product-name").textContent = name(id);
    document.getElementById("product-price").textContent = money(byId[id] && byId[id].price);
    if (window.xsellWidget) { window.xsellWidget.showBundle(id, "#xsell-bundle-product"); }
  }
  document.getElementById("product-add").addEventListener("click", function () {
    addToCart(document.getElementById("product").getAttribute("data-item-id"));
  });

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
        var title = el("button", "name", item.name || item.item_id);
        title.id = "view-" + item.item_id;
        title.title = "view the product";
        title.addEventListener("click", function () { showProduct(item.item_id); });
        card.appendChild(title);
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
    var items = cart.map(function (id) {  // lines bought in a bundle carry its id
      if (!bundleOf[id]) { return id; }
      return { item_id: id, bundle_id: bundleOf[id], price: linePrice(id) };
    });
    fetch("/checkout", { method: "POST", body: JSON.stringify({ items: items }) })
      .then(function (answer) {
        status(answer.ok ? "Thank you! Bought " + items.length + " item(s)." : "checkout failed");
        if (answer.ok) { cart = []; bundleOf = {}; renderCart(); }
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
    inCart: function (id, bundle) {
      return cart.indexOf(id) >= 0 && bundleOf[id] === bundle.bundle_id;
    },
    onAdd: function (id, message) {
      addToCart(id, message && message.suggestion_id, message && message.bundle);
    }
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
  widget.addEventListener("load", function () {  // the boxes asked for before it loaded
    renderCart();
    var viewed = document.getElementById("product").getAttribute("data-item-id");
    if (viewed) { showProduct(viewed); }
  });
  document.body.appendChild(widget);
  var asked = new URLSearchParams(location.search).get("item");  // /?item=ID: its page
  if (asked && byId[asked]) { showProduct(asked); }
})();
