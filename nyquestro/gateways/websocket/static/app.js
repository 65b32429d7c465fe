// The demo page: one WebSocket to the bridge (docs/websocket.md), no libraries.
"use strict";

const VERSION = 1;
const TAPE_ROWS = 50;
const params = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);

let socket = null;
let symbol = null;
let book = { buy: new Map(), sell: new Map() };
let orderCount = 0;

function send(message) {
  socket.send(JSON.stringify({ v: VERSION, ...message }));
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}/ws`);
  socket.onopen = () => setStatus("connected");
  socket.onclose = (event) => setStatus(`disconnected ${event.reason || ""}`, true);
  socket.onmessage = (event) => handle(JSON.parse(event.data));
}

function setStatus(text, down = false) {
  $("status").textContent = text;
  $("status").className = down ? "down" : "";
}

function handle(msg) {
  switch (msg.type) {
    case "hello": return onHello(msg);
    case "snapshot": return onSnapshot(msg);
    case "update": return onUpdate(msg);
    case "trade": return msg.symbol === symbol && addTrade(msg);
    case "order": return addOrder(msg);
    case "logged_in": return setStatus(`logged in as ${msg.name} (account ${msg.account})`);
    case "error": $("error").textContent = `${msg.code}: ${msg.text}`; return;
  }
}

function onHello(msg) {
  const select = $("symbol");
  select.replaceChildren(...msg.symbols.map((s) => new Option(s, s)));
  select.value = msg.symbols.includes(params.get("symbol")) ? params.get("symbol") : msg.symbols[0];
  watch(select.value);
  const token = $("token").value;
  if (token) send({ type: "login", token });
}

function watch(next) {
  if (symbol) send({ type: "unsubscribe", symbols: [symbol] });
  symbol = next;
  book = { buy: new Map(), sell: new Map() };
  $("tape").tBodies[0].replaceChildren();
  renderLadder();
  send({ type: "subscribe", symbols: [symbol] });
}

function onSnapshot(msg) {
  if (msg.symbol !== symbol) return;
  book = {
    buy: new Map(msg.bids.map(([px, qty, orders]) => [px, [qty, orders]])),
    sell: new Map(msg.asks.map(([px, qty, orders]) => [px, [qty, orders]])),
  };
  $("tape").tBodies[0].replaceChildren();
  msg.trades.forEach(addTrade);
  renderLadder();
}

function onUpdate(msg) {
  if (msg.symbol !== symbol) return;
  for (const change of msg.changes) {
    const side = book[change.side];
    if (change.qty === 0) side.delete(change.px);
    else side.set(change.px, [change.qty, change.orders]);
  }
  renderLadder();
}

function renderLadder() {
  const byPrice = (a, b) => Number(b[0]) - Number(a[0]);
  const rows = [];
  for (const [side, cls] of [["sell", "ask"], ["buy", "bid"]]) {
    for (const [px, [qty, orders]] of [...book[side]].sort(byPrice)) {
      const row = document.createElement("tr");
      row.className = cls;
      row.dataset.px = px;
      row.dataset.side = side;
      const cells = side === "buy" ? [orders, qty, px, "", ""] : ["", "", px, qty, orders];
      cells.forEach((value, i) => {
        const cell = row.insertCell();
        cell.textContent = value;
        if (i === 2) cell.className = "px";
        else if ((i === 1 || i === 3) && value !== "") cell.className = "qty";
      });
      rows.push(row);
    }
  }
  $("ladder").tBodies[0].replaceChildren(...rows);
}

function addTrade(trade) {
  const body = $("tape").tBodies[0];
  const row = body.insertRow(0);
  row.className = trade.aggressor;
  row.dataset.tradeId = trade.trade_id;
  const time = new Date(trade.ts / 1e6).toLocaleTimeString();
  for (const value of [time, trade.px, trade.qty, trade.aggressor]) {
    row.insertCell().textContent = value;
  }
  while (body.rows.length > TAPE_ROWS) body.deleteRow(-1);
}

function addOrder(msg) {
  const item = document.createElement("li");
  item.dataset.clOrdId = msg.cl_ord_id;
  const qty = msg.qty === undefined ? "" : ` ${msg.qty}`;
  const px = msg.px ? ` @ ${msg.px}` : "";
  const text = msg.text ? `: ${msg.text}` : "";
  item.textContent = `${msg.event} ${msg.cl_ord_id} ${msg.side || ""} ${msg.symbol || ""}${qty}${px}${text}`;
  $("orders").prepend(item);
}

$("token").value = params.get("token") || "";
$("symbol").addEventListener("change", (event) => watch(event.target.value));
$("login").addEventListener("click", () => send({ type: "login", token: $("token").value }));
$("ticket").addEventListener("submit", (event) => {
  event.preventDefault();
  orderCount += 1;
  const order = {
    type: "new_order",
    cl_ord_id: `web-${Date.now()}-${orderCount}`,
    symbol,
    side: $("side").value,
    qty: Number($("qty").value),
    tif: $("tif").value,
  };
  const px = $("px").value.trim();
  if (px) order.px = px;
  else order.ord_type = "market";
  $("error").textContent = "";
  send(order);
});
connect();
