import htm from 'htm';
import { h, type VNode } from 'preact';

/** Preact's `h` behind tagged templates: markup without a JSX compile step. Every template here has one root. */
export const html = htm.bind(h) as (strings: TemplateStringsArray, ...values: unknown[]) => VNode;
