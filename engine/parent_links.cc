#include "engine/parent_links.h"

#include <cassert>
#include <span>

#include "absl/strings/string_view.h"
#include "engine/hash_index.h"
#include "engine/string_view.h"
#include "engine/table.h"

namespace kin {
namespace {

// The parent slot of a key, or kNoParent.
template <typename K>
uint32_t ParentOf(const HashIndex& parent_index, K key) {
  std::span<const RowId> hit = parent_index.Find(key);
  return hit.empty() ? ParentLinks::kNoParent : hit.front().value;
}

// Sets child slot `r`'s parent from the current cells, moving its count.
void Relink(const Table& child, ColumnId key, const HashIndex& parent_index, uint32_t r,
            ParentLinks* links) {
  uint32_t& slot = links->parent_of[r];
  if (slot != ParentLinks::kNoParent) --links->counts[slot];
  slot = ParentLinks::kNoParent;
  const RowId id(r);
  if (!child.IsLive(id) || child.IsNull(id, key)) return;
  slot = child.column(key).type == Type::kInt64
             ? ParentOf(parent_index, child.Int64Column(key)[r])
             : ParentOf(parent_index, internal::ToAbsl(child.StringColumn(key)[r]));
  if (slot != ParentLinks::kNoParent) ++links->counts[slot];
}

}  // namespace

ParentLinkCache::Stamp ParentLinkCache::StampOf(const Table& child, ColumnId key,
                                                const Table& parent, ColumnId parent_key) {
  Stamp s;
  s.child_touch = child.touch_count();
  s.child_key = child.column_version(key);
  s.parent_instance = parent.instance_id();
  s.parent_rows = parent.rows_version();
  s.parent_key = parent.column_version(parent_key);
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
    for (size_t r = 0; r < child.slot_count(); ++r) {
      Relink(child, key, parent_index, static_cast<uint32_t>(r), links);
    }
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

bool ParentLinkCache::Update(const Table& child, ColumnId key, const Table& parent,
                             ColumnId parent_key, const Stamp& then, ParentLinks* links) {
  const HashIndex* child_index = child.index(key);
  // Parents: only appends are followed (a deleted parent or a changed key
  // leaves no trace of the old key to find its children by), through the
  // child's index, which also puts every key update in the touch log.
  if (then.parent_instance != parent.instance_id() || then.parent_rows != parent.rows_version() ||
      then.parent_key != parent.column_version(parent_key) || child_index == nullptr) {
    return false;
  }
  // Check the log first: nothing changes unless the update can finish.
  bool logged = child.ForEachTouchedSince(then.child_touch, [](uint32_t) {});
  if (!logged) return false;
  const HashIndex& parent_index = *parent.index(parent_key);
  // Never shrunk before the re-linking: a rolled-back insert gives its
  // fresh slot back (slot_count() drops), and that slot, touched by the
  // undo, must first give back its count (IsLive is false past the end).
  const size_t child_slots = child.slot_count();
  if (links->parent_of.size() < child_slots) {
    links->parent_of.resize(child_slots, ParentLinks::kNoParent);
  }
  links->counts.resize(parent.slot_count(), 0);
  for (size_t q = then.parent_slots; q < parent.slot_count(); ++q) {
    const RowId id(static_cast<uint32_t>(q));
    if (!parent.IsLive(id) || parent.IsNull(id, parent_key)) continue;
    for (RowId r : child_index->Find(parent.GetValue(id, parent_key))) {
      Relink(child, key, parent_index, r.value, links);
    }
  }
  child.ForEachTouchedSince(then.child_touch, [&](uint32_t r) {
    // A slot past both ends was appended and given back since: never linked.
    if (r < links->parent_of.size()) Relink(child, key, parent_index, r, links);
  });
  links->parent_of.resize(child_slots);  // past it: given-back slots, unlinked above
  return true;
}

std::shared_ptr<const ParentLinks> ParentLinkCache::Get(const Table& child, ColumnId key,
                                                        const Table& parent,
                                                        ColumnId parent_key) const {
  assert(&child.parent_links() == this);
  assert(parent.index(parent_key) != nullptr && parent.index(parent_key)->unique());
  std::lock_guard<std::mutex> lock(mu_);
  Entry* entry = nullptr;
  for (Entry& e : entries_) {
    if (e.key == key && e.parent_key == parent_key) {
      entry = &e;
      break;
    }
  }
  if (entry == nullptr) {
    entries_.push_back(Entry{key, parent_key, Stamp{}, nullptr});
    entry = &entries_.back();
  }
  const Stamp now = StampOf(child, key, parent, parent_key);
  const Stamp& then = entry->stamp;
  if (entry->links != nullptr && then.child_touch == now.child_touch &&
      then.child_key == now.child_key && then.parent_instance == now.parent_instance &&
      then.parent_rows == now.parent_rows && then.parent_key == now.parent_key &&
      then.parent_slots == now.parent_slots) {
    return entry->links;
  }
  // Links still held by a reader are never changed in place (a reader
  // running during a write breaks the contract, but reads no torn state).
  std::shared_ptr<ParentLinks> links;
  if (entry->links != nullptr && entry->links.use_count() == 1) {
    links = std::move(entry->links);
  } else if (entry->links != nullptr) {
    links = std::make_shared<ParentLinks>(*entry->links);
  } else {
    links = std::make_shared<ParentLinks>();
  }
  const bool updated =
      then.parent_instance != 0 && Update(child, key, parent, parent_key, then, links.get());
  if (!updated) Build(child, key, parent, parent_key, links.get());
  child.WatchTouches();
  entry->links = std::move(links);
  entry->stamp = StampOf(child, key, parent, parent_key);
  return entry->links;
}

void ParentLinkCache::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  entries_.clear();
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
