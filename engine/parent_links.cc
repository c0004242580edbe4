#include "engine/parent_links.h"

#include <cassert>
#include <span>

#include "absl/strings/string_view.h"
#include "engine/hash_index.h"
#include "engine/table.h"

namespace kin {
namespace {

// The parent slot of a key, or kNoParent.
template <typename K>
uint32_t ParentOf(const HashIndex& parent_index, K key) {
  std::span<const RowId> hit = parent_index.Find(key);
  return hit.empty() ? ParentLinks::kNoParent : hit.front().value;
}

// Calls f(slot, parent) for every live child slot in [from_slot, end) with
// a non-NULL key, probing the parent index once per row.
void LinkRows(const Table& child, ColumnId key, const HashIndex& parent_index, size_t from_slot,
              ParentLinks* links) {
  const Bitmap* valid = child.validity(key);
  const size_t end = child.slot_count();
  const bool ints = child.column(key).type == Type::kInt64;
  for (size_t r = from_slot; r < end; ++r) {
    const RowId id(static_cast<uint32_t>(r));
    if (!child.IsLive(id) || (valid != nullptr && !valid->Get(id.value))) continue;
    const uint32_t p = ints ? ParentOf(parent_index, child.Int64Column(key)[r])
                            : ParentOf(parent_index, absl::string_view(child.StringColumn(key)[r]));
    links->parent_of[r] = p;
    if (p != ParentLinks::kNoParent) ++links->counts[p];
  }
}

}  // namespace

ParentLinkCache::Stamp ParentLinkCache::StampOf(const Table& child, ColumnId key,
                                                const Table& parent, ColumnId parent_key) {
  Stamp s;
  s.child_rows = child.rows_version();
  s.child_key = child.column_version(key);
  s.parent_instance = parent.instance_id();
  s.parent_rows = parent.rows_version();
  s.parent_key = parent.column_version(parent_key);
  // Appended parents (fresh slots) leave rows_version alone but may be the
  // parents of existing children: a grown parent table rebuilds.
  s.parent_slots = parent.slot_count();
  return s;
}

void ParentLinkCache::Build(const Table& child, ColumnId key, const Table& parent,
                            ColumnId parent_key, ParentLinks* links) {
  const HashIndex& parent_index = *parent.index(parent_key);
  links->parent_of.assign(child.slot_count(), ParentLinks::kNoParent);
  links->counts.assign(parent.slot_count(), 0);
  const HashIndex* child_index = child.index(key);
  if (child_index == nullptr) {
    LinkRows(child, key, parent_index, 0, links);
    return;
  }
  // One parent probe per distinct key: the child index lists each key's
  // rows (live ones only).
  child_index->ForEachKey([&](auto k, std::span<const RowId> rows) {
    const uint32_t p = ParentOf(parent_index, k);
    if (p == ParentLinks::kNoParent) return;
    for (RowId r : rows) links->parent_of[r.value] = p;
    links->counts[p] += static_cast<uint32_t>(rows.size());
  });
}

void ParentLinkCache::Extend(const Table& child, ColumnId key, const Table& parent,
                             ColumnId parent_key, size_t from_slot, ParentLinks* links) {
  links->parent_of.resize(child.slot_count(), ParentLinks::kNoParent);
  LinkRows(child, key, *parent.index(parent_key), from_slot, links);
}

std::shared_ptr<const ParentLinks> ParentLinkCache::Get(const Table& child, ColumnId key,
                                                        const Table& parent,
                                                        ColumnId parent_key) const {
  assert(&child.parent_links() == this);
  assert(parent.index(parent_key) != nullptr && parent.index(parent_key)->unique());
  const Stamp now = StampOf(child, key, parent, parent_key);
  std::lock_guard<std::mutex> lock(mu_);
  Entry* entry = nullptr;
  for (Entry& e : entries_) {
    if (e.key == key && e.parent_key == parent_key) {
      entry = &e;
      break;
    }
  }
  if (entry == nullptr) {
    entries_.push_back(Entry{key, parent_key, Stamp{}, 0, nullptr});
    entry = &entries_.back();
  }
  const Stamp& then = entry->stamp;
  const bool same = entry->links != nullptr && then.parent_instance == now.parent_instance &&
                    then.child_rows == now.child_rows && then.child_key == now.child_key &&
                    then.parent_rows == now.parent_rows && then.parent_key == now.parent_key &&
                    then.parent_slots == now.parent_slots;
  if (same && entry->child_slots == child.slot_count()) return entry->links;
  // Links still held by a reader are never changed in place (a reader
  // running during a write breaks the contract, but reads no torn state).
  std::shared_ptr<ParentLinks> links;
  if (entry->links != nullptr && entry->links.use_count() == 1) {
    links = std::move(entry->links);
  } else if (same) {
    links = std::make_shared<ParentLinks>(*entry->links);
  } else {
    links = std::make_shared<ParentLinks>();
  }
  if (same) {
    // Only appends to the child since: link the new slots.
    Extend(child, key, parent, parent_key, entry->child_slots, links.get());
  } else {
    Build(child, key, parent, parent_key, links.get());
  }
  entry->links = links;
  entry->stamp = now;
  entry->child_slots = child.slot_count();
  return links;
}

size_t ParentLinkCache::MemoryBytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t bytes = entries_.capacity() * sizeof(Entry);
  for (const Entry& e : entries_) {
    if (e.links != nullptr) bytes += sizeof(ParentLinks) + e.links->MemoryBytes();
  }
  return bytes;
}

}  // namespace kin
