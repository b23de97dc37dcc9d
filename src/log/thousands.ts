// Whole numbers in messages, grouped as en-US groups them ("20,000"), without Intl.
// Why: a process's first Number.prototype.toLocaleString makes V8 list the locales ICU has for number
// formats, which reads ICU data all over node's binary: an idle agent (its startup computes the limits
// advice) kept about 5 MiB more of node's pages resident, and 2 MiB of ICU objects, for commas.
export function thousands(value: number): string {
  const [whole = '', fraction] = String(value).split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+$)/g, ',');
  return fraction === undefined ? grouped : `${grouped}.${fraction}`;
}
