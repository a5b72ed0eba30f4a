import { describe, expect, it } from "vitest";
import { makeOthersInert } from "./TeamScreen";

describe("modal offer", () => {
  it("makes everything outside the dialog inert and undoes it", () => {
    document.body.innerHTML = `<header id="h"></header><main id="m"><section id="s"></section><div><div id="dlg"><button id="b"></button></div></div></main>`;
    const undo = makeOthersInert(document.getElementById("dlg"));
    expect(document.getElementById("h")!.hasAttribute("inert")).toBe(true);
    expect(document.getElementById("s")!.hasAttribute("inert")).toBe(true);
    expect(document.getElementById("dlg")!.closest("[inert]")).toBeNull();
    undo();
    expect(document.querySelectorAll("[inert]").length).toBe(0);
  });
});
