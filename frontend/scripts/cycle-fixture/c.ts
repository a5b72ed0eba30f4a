import type { A } from "./a";

export const c = (x: A): string => x.name;
