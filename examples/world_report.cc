#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "examples/world.h"

namespace kin::examples {

std::string FormatCount(int64_t n) {
  std::string digits = absl::StrCat(n < 0 ? -static_cast<uint64_t>(n) : static_cast<uint64_t>(n));
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return n < 0 ? "-" + out : out;
}

namespace {

std::string Megabytes(uint64_t bytes) {
  return absl::StrFormat("%.1f MB", static_cast<double>(bytes) / 1e6);
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t mid = v.size() / 2;
  return v.size() % 2 == 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

double Worst(const std::vector<double>& v) {
  return v.empty() ? 0 : *std::max_element(v.begin(), v.end());
}

double Sum(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s;
}

double PerSecond(double amount, double seconds) { return seconds > 0 ? amount / seconds : 0; }

}  // namespace

absl::string_view SyncPolicyName(SyncPolicy policy) {
  switch (policy) {
    case SyncPolicy::kEveryCommit:
      return "every";
    case SyncPolicy::kGrouped:
      return "grouped";
    case SyncPolicy::kNone:
      return "none";
  }
  return "unknown";
}

std::string FormatReport(const WorldReport& report) {
  const WorldOptions& o = report.options;
  const WorldCounts& c = report.counts;
  const WorldTimings& t = report.timings;
  std::string out;
  absl::StrAppendFormat(&out, "\nkin world: seed %d, scale %g, %d ticks", o.seed, o.scale, o.ticks);
  if (!o.data_dir.empty()) {
    absl::StrAppendFormat(&out, "; data directory %s, --sync=%s", o.data_dir,
                          SyncPolicyName(o.sync));
  }
  out += "\n";
  if (const std::optional<JournalInfo>& j = report.journal; j.has_value()) {
    // What the next Open would load and replay, and the automatic
    // checkpoints that keep the replay bounded.
    absl::StrAppendFormat(
        &out,
        "  checkpoint %d: snapshot %s, then a journal of %s up to commit %d; "
        "automatic checkpoints this run: %d%s\n",
        j->checkpoint, Megabytes(j->snapshot_bytes), Megabytes(j->journal_bytes), j->last_commit,
        j->auto_checkpoints,
        j->auto_checkpoint_error.ok()
            ? ""
            : absl::StrCat(" (the last failed: ", j->auto_checkpoint_error.message(), ")"));
  }

  absl::StrAppendFormat(&out, "\nWorld %22s %16s\n", "seeded", "after the ticks");
  auto size_row = [&](absl::string_view name, int64_t seeded, int64_t now) {
    absl::StrAppendFormat(&out, "  %-11s %16s %16s\n", name, FormatCount(seeded), FormatCount(now));
  };
  size_row("guilds", c.seeded_guilds, c.guilds);
  size_row("players", c.seeded_players, c.players);
  size_row("items", c.seeded_items, c.items);
  size_row("events", c.seeded_events, c.events);
  size_row("quest links", c.seeded_quest_links, c.quest_links);
  size_row("profiles", c.seeded_profiles, c.profiles);
  for (const WorldTimings::Seeding& seeding : t.seed) {
    absl::StrAppendFormat(
        &out, "  seeded %s rows in %.2f s, %s rows/s: %s\n", FormatCount(seeding.rows),
        seeding.seconds,
        FormatCount(std::llround(PerSecond(static_cast<double>(seeding.rows), seeding.seconds))),
        seeding.what);
  }

  absl::StrAppendFormat(&out, "\nTicks: %d in %.2f s; per tick median %.1f ms, worst %.1f ms\n",
                        t.tick_ms.size(), Sum(t.tick_ms) / 1e3, Median(t.tick_ms),
                        Worst(t.tick_ms));
  if (!t.commit_ms.empty()) {
    absl::StrAppendFormat(&out,
                          "  commits (journal, --sync=%s): median %.2f ms, worst %.2f ms, "
                          "%.2f s in all, not in the ticks' times\n",
                          SyncPolicyName(o.sync), Median(t.commit_ms), Worst(t.commit_ms),
                          Sum(t.commit_ms) / 1e3);
  } else if (o.data_dir.empty() && !t.tick_ms.empty()) {
    // Without --data a tick is no transaction: each write commits (and
    // reaches the commit feed) by itself, inside the tick's time. Compare
    // a tick here with a tick plus its commit with --data.
    absl::StrAppend(&out,
                    "  commits (no journal): each write commits alone, inside the ticks' times\n");
  }
  if (!t.tick_ms.empty()) {
    absl::StrAppendFormat(&out, "  %-50s %6s %9s %8s %8s %7s\n", "each tick", "calls", "median ms",
                          "worst ms", "total ms", "us/call");
  }
  for (const OpTiming& op : t.ops) {
    if (op.tick_ms.empty()) continue;
    const double total = Sum(op.tick_ms);
    absl::StrAppendFormat(&out, "  %-50s %6s %9.2f %8.2f %8.1f %7.1f\n", op.name,
                          FormatCount(op.calls / static_cast<int64_t>(op.tick_ms.size())),
                          Median(op.tick_ms), Worst(op.tick_ms), total,
                          op.calls > 0 ? total * 1e3 / static_cast<double>(op.calls) : 0.0);
  }
  if (t.cross_checks > 0) {
    absl::StrAppendFormat(&out,
                          "  (the six reads written by hand on typed spans: %.1f ms a tick)\n",
                          t.cross_check_s * 1e3 / t.cross_checks);
  }

  absl::StrAppendFormat(&out, "\nWhat happened\n");
  absl::StrAppendFormat(&out, "  guilds    %s joins, %s leaves, %s purges (%s players dropped)\n",
                        FormatCount(c.joins), FormatCount(c.leaves), FormatCount(c.purges),
                        FormatCount(c.purged_players));
  absl::StrAppendFormat(&out, "            %s disbanded (members kept, guild_id NULL)\n",
                        FormatCount(c.guilds_disbanded));
  absl::StrAppendFormat(&out, "  items     %s looted, %s broken, %s traded\n",
                        FormatCount(c.items_looted), FormatCount(c.items_broken),
                        FormatCount(c.trades));
  absl::StrAppendFormat(&out, "            %s trades refused (buyer short of gold), rolled back\n",
                        FormatCount(c.failed_trades));
  absl::StrAppendFormat(&out, "  players   %s registered, %s quit (%s items, %s events cascaded)\n",
                        FormatCount(c.players_registered), FormatCount(c.players_quit),
                        FormatCount(c.cascaded_items), FormatCount(c.cascaded_events));
  absl::StrAppendFormat(&out, "            %s score and %s activity updates, %s events logged\n",
                        FormatCount(c.score_updates), FormatCount(c.activity_toggles),
                        FormatCount(c.events_logged));
  absl::StrAppendFormat(&out,
                        "  quests    %s taken, %s progressed, %s turned in; %s profiles made\n",
                        FormatCount(c.quests_taken), FormatCount(c.quest_updates),
                        FormatCount(c.quests_turned_in), FormatCount(c.profiles_created));
  if (c.commits > 0 && !report.timings.tick_ms.empty()) {
    const double ticks = static_cast<double>(report.timings.tick_ms.size());
    absl::StrAppendFormat(&out, "  feed      %s commits (%.1f a tick); row changes a tick:\n",
                          FormatCount(c.commits), static_cast<double>(c.commits) / ticks);
    for (const WorldCounts::TableChanges& t : c.changes) {
      absl::StrAppendFormat(&out, "            %-12s %8.1f inserted %8.1f updated %8.1f deleted\n",
                            t.table, static_cast<double>(t.inserted) / ticks,
                            static_cast<double>(t.updated) / ticks,
                            static_cast<double>(t.deleted) / ticks);
    }
  }
  absl::StrAppendFormat(&out, "  now       %s guildless players, %s gold in purses\n",
                        FormatCount(c.guildless_players), FormatCount(c.total_gold));
  absl::StrAppendFormat(&out, "  last tick %s guilds with >= 50 active players, largest %s\n",
                        FormatCount(c.guilds_with_50_active), FormatCount(c.largest_guild));
  absl::StrAppendFormat(&out, "            richest player %s gold, %s players raid-ready\n",
                        FormatCount(c.richest_gold), FormatCount(c.raid_ready_players));
  absl::StrAppendFormat(&out, "  digests   leaderboards %016x, guild sizes %016x\n",
                        c.leaderboard_checksum, c.guild_size_checksum);
  absl::StrAppendFormat(&out, "            richest %016x, quest boards %016x\n", c.richest_checksum,
                        c.quest_board_checksum);
  absl::StrAppendFormat(&out, "            world %016x\n", c.world_digest);

  const double mb = static_cast<double>(t.snapshot_bytes) / 1e6;
  absl::StrAppendFormat(&out, "\nSnapshot %s%s\n", report.snapshot_path,
                        report.snapshot_kept ? "" : " (temporary, removed; --save=PATH keeps it)");
  absl::StrAppendFormat(&out,
                        "  %s, saved in %.2f s (%.0f MB/s, atomic%s), loaded in %.2f s "
                        "(%.0f MB/s)\n",
                        Megabytes(t.snapshot_bytes), t.save_s, PerSecond(mb, t.save_s),
                        o.fsync ? ", fsync" : "", t.load_s, PerSecond(mb, t.load_s));
  if (report.snapshot_kept) {
    absl::StrAppendFormat(&out, "  look inside: bazel run //tools:kin -- inspect %s\n",
                          report.snapshot_path);
  }

  absl::StrAppendFormat(&out, "\nMemory\n");
  absl::StrAppendFormat(&out, "  %s in kin's tables and indexes (Database::MemoryBytes)\n",
                        Megabytes(t.kin_bytes));
  absl::StrAppendFormat(&out, "  process RSS %s after the ticks, peak %s (live + loaded world)\n",
                        Megabytes(t.rss_bytes), Megabytes(t.peak_rss_bytes));

  int passed = 0;
  for (const Check& check : report.checks) passed += check.passed;
  absl::StrAppendFormat(&out, "\nChecks: %d of %d passed\n", passed, report.checks.size());
  for (const Check& check : report.checks) {
    absl::StrAppendFormat(&out, "  %s  %s\n", check.passed ? "ok  " : "FAIL", check.name);
    if (!check.passed) absl::StrAppendFormat(&out, "        %s\n", check.detail);
  }
  absl::StrAppendFormat(&out, "  (%.2f s of checking: %.2f s cross-checks, ",
                        t.cross_check_s + t.consistency_s + t.compare_s, t.cross_check_s);
  if (o.check_consistency) {
    absl::StrAppendFormat(&out, "%.2f s CheckConsistency, ", t.consistency_s);
  }
  absl::StrAppendFormat(&out, "%.2f s digests and queries)\n", t.compare_s);
  return out;
}

}  // namespace kin::examples
