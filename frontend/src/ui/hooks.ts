import { useEffect, useState } from "preact/hooks";
import type { Observable } from "../lib/observable";

export function useObservable<T>(obs: Observable<T>): T {
  const [value, setValue] = useState(obs.value);
  useEffect(() => {
    setValue(obs.value);
    return obs.subscribe(setValue);
  }, [obs]);
  return value;
}
