/**
 * The search operators each contact custom-field type takes. Pylon's reference lists none per type
 * ("custom fields (pass in the slug of the custom field)"); these follow what each type means (text
 * is matched as text, numbers are compared, dates fall in ranges, a select holds one option slug, a
 * multiselect several). The emulator answers 400 outside them, and the CLI refuses a filter outside
 * them before its first search (resolveFilter), so both read this one table.
 */
import type { FilterOperator } from './types.js';

const TEXT: readonly FilterOperator[] = ['equals', 'not_equals', 'in', 'not_in', 'string_contains', 'string_does_not_contain', 'is_set', 'is_unset'];
const NUMBER: readonly FilterOperator[] = ['equals', 'not_equals', 'in', 'not_in', 'greater_than', 'less_than', 'greater_than_or_equals', 'less_than_or_equals', 'is_set', 'is_unset'];
const TIME: readonly FilterOperator[] = ['equals', 'not_equals', 'time_is_after', 'time_is_before', 'time_range', 'is_set', 'is_unset'];

export const CUSTOM_FIELD_OPERATORS: Readonly<Record<string, readonly FilterOperator[]>> = {
  text: TEXT,
  url: TEXT,
  user: TEXT,
  select: ['equals', 'not_equals', 'in', 'not_in', 'is_set', 'is_unset'],
  multiselect: ['contains', 'does_not_contain', 'is_set', 'is_unset'],
  number: NUMBER,
  decimal: NUMBER,
  boolean: ['equals', 'not_equals', 'is_set', 'is_unset'],
  date: TIME,
  datetime: TIME,
};
