/** A count with its noun in the right number: counted(1, 'row') is "1 row", counted(2, 'row') "2 rows". */
export function counted(count: number, singular: string, plural = `${singular}s`): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? singular : plural}`;
}
