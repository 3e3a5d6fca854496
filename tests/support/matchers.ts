import { expect } from "vitest";

/**
 * vitest types its asymmetric matchers as `any`, which then leaks into the objects they sit in.
 * These wrappers give each the type of the value it stands for.
 */
export const stringMatching = (pattern: RegExp | string): string => expect.stringMatching(pattern) as string;
export const stringContaining = (text: string): string => expect.stringContaining(text) as string;
export const anyString = (): string => expect.any(String) as string;
export const anyNumber = (): number => expect.any(Number) as number;
export const anything = (): unknown => expect.anything() as unknown;
export const arrayContaining = <T>(items: T[]): T[] => expect.arrayContaining<T>(items as never) as T[];
export const objectContaining = <T extends object>(fields: T): T => expect.objectContaining<T>(fields as never) as T;
