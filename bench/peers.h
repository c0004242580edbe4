// The peers of the relations benchmark, by name, in the order the benchmark
// runs them.

#ifndef KIN_BENCH_PEERS_H_
#define KIN_BENCH_PEERS_H_

#include <memory>
#include <string>
#include <vector>

#include "bench/peer.h"

namespace kin::bench {

// "Hand", "Sqlite", "KinRow", "KinTyped", "KinNative".
std::vector<std::string> PeerNames();

// A new, empty peer; nullptr for an unknown name.
std::unique_ptr<Peer> MakePeer(const std::string& name);

}  // namespace kin::bench

#endif  // KIN_BENCH_PEERS_H_
