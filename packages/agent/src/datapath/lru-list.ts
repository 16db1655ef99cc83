/**
 * An intrusive doubly linked list in least-recently-used order: the nodes
 * carry their own prev/next links, so appending, unlinking and moving a node
 * to the tail allocate nothing and cost O(1). The FDB keeps one per location
 * (port or VTEP) for its dynamic entries: the head is the one to evict.
 */
export interface LruNode<T> {
  prev: T | null;
  next: T | null;
}

export class LruList<T extends LruNode<T>> {
  head: T | null = null;
  tail: T | null = null;
  count = 0;

  /** Adds `node` as the most recently used. */
  append(node: T): void {
    this.insertAfter(node, this.tail);
  }

  /** Inserts `node` right after `prev` (null: at the head). */
  insertAfter(node: T, prev: T | null): void {
    const next = prev === null ? this.head : prev.next;
    node.prev = prev;
    node.next = next;
    if (prev === null) this.head = node;
    else prev.next = node;
    if (next === null) this.tail = node;
    else next.prev = node;
    this.count++;
  }

  remove(node: T): void {
    if (node.prev === null) this.head = node.next;
    else node.prev.next = node.next;
    if (node.next === null) this.tail = node.prev;
    else node.next.prev = node.prev;
    node.prev = node.next = null;
    this.count--;
  }

  /** Marks `node` (already in the list) as the most recently used. */
  touch(node: T): void {
    if (this.tail === node) return;
    this.remove(node);
    this.append(node);
  }
}
