#include "bench/peers.h"

#include "bench/hand_peer.h"
#include "bench/kin_peer.h"
#include "bench/sqlite_peer.h"

namespace kin::bench {

std::vector<std::string> PeerNames() {
  return {"Hand", "Sqlite", "KinRow", "KinTyped", "KinNative"};
}

std::unique_ptr<Peer> MakePeer(const std::string& name) {
  if (name == "Hand") return std::make_unique<HandPeer>();
  if (name == "Sqlite") return std::make_unique<SqlitePeer>();
  if (name == "KinRow") return std::make_unique<KinRowPeer>();
  if (name == "KinTyped") return std::make_unique<KinTypedPeer>();
  if (name == "KinNative") return std::make_unique<KinNativePeer>();
  return nullptr;
}

}  // namespace kin::bench
