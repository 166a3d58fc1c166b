// The pages' one table: a caption (visible, or for screen readers only), column headers with
// scope="col" (a column whose header is only for screen readers, such as Actions, keeps it in a
// visually-hidden span), one row per item with a stable key and optional data-* attributes for
// tests, and an empty-state line. ListView adds what every list around it shows: the error line,
// "Loading…", and the pager when the list is cursor-paged.
import type { ComponentChildren } from 'preact';
import type { Page } from './api.js';
import type { Loaded, Paged } from './data.js';
import { ErrorLine, Loading, Pager } from './ui.js';

export interface Column<T> {
  label: string;
  /** The header is read by screen readers only (a column of buttons or checkboxes). */
  hideLabel?: boolean;
  cell: (row: T) => ComponentChildren;
}

export interface TableProps<T> {
  caption: string;
  /** Show the caption (default: for screen readers only). */
  showCaption?: boolean;
  columns: Column<T>[];
  rows: T[];
  rowKey: (row: T, index: number) => string | number;
  /** data-* attributes of a row (what the browser tests find it by). */
  rowData?: (row: T) => Record<`data-${string}`, string>;
  /** The line shown instead of nothing when there are no rows. */
  empty?: ComponentChildren;
}

export function DataTable<T>({ caption, showCaption, columns, rows, rowKey, rowData, empty }: TableProps<T>) {
  return (
    <div class="table-wrap">
      <table>
        <caption class={showCaption ? undefined : 'visually-hidden'}>{caption}</caption>
        <thead><tr>{columns.map((c) => <th scope="col" key={c.label}>{c.hideLabel ? <span class="visually-hidden">{c.label}</span> : c.label}</th>)}</tr></thead>
        <tbody>
          {rows.map((r, i) => <tr key={rowKey(r, i)} {...rowData?.(r)}>{columns.map((c) => <td key={c.label}>{c.cell(r)}</td>)}</tr>)}
        </tbody>
      </table>
      {rows.length === 0 && empty ? <p class="muted">{empty}</p> : null}
    </div>
  );
}

type ListProps<T> = Omit<TableProps<T>, 'rows'> & {
  /** A list read whole (useLoad) or cursor-paged (usePaged: the pager is shown). */
  list: Loaded<{ data: T[] }> | Paged<T>;
  /** An action's failure, shown in place of the list's own. */
  error?: Error | null;
};

const isPaged = <T,>(list: Loaded<{ data: T[] }> | Paged<T>): list is Paged<T> => 'next' in list;

export function ListView<T>({ list, error, ...table }: ListProps<T>) {
  const paged = isPaged(list);
  return (
    <>
      <ErrorLine error={error ?? list.error} />
      <Loading when={list.loading && (paged || !list.data)} />
      {list.data ? <DataTable {...table} rows={list.data.data} /> : null}
      {paged ? <Pager hasPrevious={list.hasPrevious} hasNext={!!(list.data as Page<T> | null)?.next_cursor} previous={list.previous} next={list.next} /> : null}
    </>
  );
}
