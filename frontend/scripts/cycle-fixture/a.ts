import { b } from "./b";
import { leaf } from "./leaf";

export interface A {
  name: string;
}

export const a = (): string => b() + leaf;
