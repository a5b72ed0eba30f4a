export const b = (): string => "b";

export const loadC = () => import("./c").then((m) => m.c);
