import { useEffect, useState } from "preact/hooks";
import { toApiError, type TApiError } from "./api.ts";

export type TCall<T> = { data?: T; error?: TApiError; loading: boolean };

/** Runs a read when `key` changes; the result, or the API error to show. */
export function useCall<T>(key: string, run: () => Promise<T>): TCall<T> {
  const [state, setState] = useState<TCall<T>>({ loading: true });
  useEffect(() => {
    let current = true;
    setState({ loading: true });
    run().then(
      (data) => current && setState({ data, loading: false }),
      (err: unknown) => current && setState({ error: toApiError(err), loading: false }),
    );
    return () => void (current = false);
  }, [key]);
  return state;
}
