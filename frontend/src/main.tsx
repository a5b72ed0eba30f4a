import { render } from "preact";
import "./styles.css";
import { boot } from "./lib/session";
import { registerServiceWorker } from "./lib/sw-register";
import { App } from "./ui/App";

render(<App />, document.getElementById("app") as HTMLElement);
void boot();
registerServiceWorker();
