// Switches and buttons: offered only for switch/button entities whose service the hub has, always confirmed.

import { h } from "../dom.js";
import { UNAVAILABLE } from "../format.js";

/** A control element for the entity, or null when it is not a switch or button the hub can drive. */
export function controlFor(store, facts, app) {
  if (facts.domain === "switch" && store.hasService("switch", "turn_on") && store.hasService("switch", "turn_off")) {
    const toggle = h("button.toggle", {
      type: "button", role: "switch", "aria-label": `Switch ${facts.name}`,
      onclick: async (event) => {
        event.preventDefault();
        const on = store.entities.get(facts.id)?.state === "on";
        const action = on ? "turn_off" : "turn_on";
        const verb = on ? "Turn off" : "Turn on";
        if (await app.confirm(`${verb} ${facts.name}?`, verb)) await app.run(store.callService("switch", action, facts.id), `${verb}: ${facts.name}`);
      },
    });
    paintToggle(toggle, store.entities.get(facts.id)?.state);
    toggle.paint = (state) => paintToggle(toggle, state);
    return toggle;
  }
  if (facts.domain === "button" && store.hasService("button", "press")) {
    return h("button.press", {
      type: "button",
      onclick: async (event) => {
        event.preventDefault();
        if (await app.confirm(`Press ${facts.name}?`, "Press")) await app.run(store.callService("button", "press", facts.id), `Pressed: ${facts.name}`);
      },
    }, "Press");
  }
  return null;
}

function paintToggle(toggle, state) {
  toggle.setAttribute("aria-checked", String(state === "on"));
  toggle.disabled = state === UNAVAILABLE;
}
