#include "ioctl_model.h"

#include <linux/fiemap.h>
#include <linux/fs.h>
#include <linux/if_tun.h>
#include <linux/kd.h>
#include <linux/serial.h>
#include <linux/sockios.h>
#include <linux/vt.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <termios.h>

#include <unordered_map>

namespace ttdb {
namespace {

// The kernel's struct termios on x86-64 (not glibc's, which is larger).
constexpr std::uint64_t kKernelTermiosSize = 36;
constexpr std::uint64_t kKernelTermioSize = 18;
// Old bridge requests (SIOCGIFBR): three words, the first the command.
constexpr std::uint64_t kBrctlGetBridges = 1;

// Requests whose number does not say what they write: the byte count written
// at the argument (0: nothing).
const std::unordered_map<std::uint64_t, std::uint64_t>& fixed_sizes() {
  static const std::unordered_map<std::uint64_t, std::uint64_t> sizes = {
      // Terminals.
      {TCGETS, kKernelTermiosSize}, {TCGETA, kKernelTermioSize}, {TIOCGLCKTRMIOS, kKernelTermiosSize},
      {TIOCGWINSZ, sizeof(winsize)}, {FIONREAD, sizeof(int)}, {TIOCGPGRP, sizeof(int)},
      {TIOCGSID, sizeof(int)}, {TIOCOUTQ, sizeof(int)}, {TIOCMGET, sizeof(int)}, {TIOCGETD, sizeof(int)},
      {TIOCGSOFTCAR, sizeof(int)}, {TIOCSERGETLSR, sizeof(int)}, {TIOCGSERIAL, sizeof(serial_struct)},
      {TIOCGICOUNT, 80}, {TIOCGRS485, 32}, {TIOCSRS485, 32}, {TIOCLINUX, 1},
      {TCSETS, 0}, {TCSETSW, 0}, {TCSETSF, 0}, {TCSETA, 0}, {TCSETAW, 0}, {TCSETAF, 0},
      {TIOCSWINSZ, 0}, {TIOCSPGRP, 0}, {FIONBIO, 0}, {FIOCLEX, 0}, {FIONCLEX, 0}, {FIOASYNC, 0},
      {TIOCSCTTY, 0}, {TCFLSH, 0}, {TCXONC, 0}, {TCSBRK, 0}, {TCSBRKP, 0}, {TIOCNOTTY, 0},
      {TIOCEXCL, 0}, {TIOCNXCL, 0}, {TIOCCONS, 0}, {TIOCSBRK, 0}, {TIOCCBRK, 0}, {TIOCSTI, 0},
      {TIOCSETD, 0}, {TIOCPKT, 0}, {TIOCSSOFTCAR, 0}, {TIOCSLCKTRMIOS, 0}, {TIOCMSET, 0},
      {TIOCMBIS, 0}, {TIOCMBIC, 0}, {TIOCSSERIAL, 0}, {TIOCVHANGUP, 0}, {TIOCGPTPEER, 0},
      {TIOCMIWAIT, 0}, {TIOCSPTLCK, 0}, {TIOCGPTN, sizeof(int)}, {TIOCGEXCL, sizeof(int)},
      // Virtual terminals and the console keyboard.
      {VT_OPENQRY, sizeof(int)}, {VT_GETMODE, sizeof(vt_mode)}, {VT_GETSTATE, sizeof(vt_stat)},
      {VT_GETHIFONTMASK, sizeof(unsigned short)}, {VT_SETMODE, 0}, {VT_ACTIVATE, 0},
      {VT_WAITACTIVE, 0}, {VT_DISALLOCATE, 0}, {VT_RELDISP, 0},
      {KDGETMODE, sizeof(int)}, {KDGKBTYPE, 1}, {KDGETLED, 1}, {KDGKBLED, 1}, {KDGKBMODE, sizeof(int)},
      {KDGKBMETA, sizeof(int)}, {KDGKBENT, sizeof(kbentry)}, {KDGKBSENT, sizeof(kbsentry)},
      {KDGETKEYCODE, sizeof(kbkeycode)}, {KDGKBDIACR, sizeof(kbdiacrs)}, {GIO_SCRNMAP, E_TABSZ},
      {GIO_UNISCRNMAP, E_TABSZ * 2}, {GIO_CMAP, 48}, {GIO_FONT, 8192},
      {KDSETMODE, 0}, {KDSKBMODE, 0}, {KDSKBMETA, 0}, {KDSETLED, 0}, {KDSKBLED, 0}, {KIOCSOUND, 0},
      {KDMKTONE, 0},
      // Sockets and network interfaces: the get requests fill a struct ifreq.
      {SIOCGIFNAME, sizeof(ifreq)}, {SIOCGIFFLAGS, sizeof(ifreq)}, {SIOCGIFADDR, sizeof(ifreq)},
      {SIOCGIFDSTADDR, sizeof(ifreq)}, {SIOCGIFBRDADDR, sizeof(ifreq)}, {SIOCGIFNETMASK, sizeof(ifreq)},
      {SIOCGIFMETRIC, sizeof(ifreq)}, {SIOCGIFMEM, sizeof(ifreq)}, {SIOCGIFMTU, sizeof(ifreq)},
      {SIOCGIFHWADDR, sizeof(ifreq)}, {SIOCGIFINDEX, sizeof(ifreq)}, {SIOCGIFPFLAGS, sizeof(ifreq)},
      {SIOCGIFTXQLEN, sizeof(ifreq)}, {SIOCGIFMAP, sizeof(ifreq)}, {SIOCGIFSLAVE, sizeof(ifreq)},
      {SIOCGMIIPHY, sizeof(ifreq)}, {SIOCGMIIREG, sizeof(ifreq)}, {SIOCGIFCOUNT, sizeof(ifreq)},
      {SIOCGSTAMP, 16}, {SIOCGSTAMPNS, 16}, {SIOCATMARK, sizeof(int)}, {SIOCGPGRP, sizeof(int)},
      {SIOCOUTQNSD, sizeof(int)}, {SIOCGARP, 68}, {SIOCGRARP, 68},
      {SIOCSIFFLAGS, 0}, {SIOCSIFADDR, 0}, {SIOCSIFDSTADDR, 0}, {SIOCSIFBRDADDR, 0},
      {SIOCSIFNETMASK, 0}, {SIOCSIFMETRIC, 0}, {SIOCSIFMTU, 0}, {SIOCSIFHWADDR, 0},
      {SIOCSIFNAME, 0}, {SIOCSIFTXQLEN, 0}, {SIOCSIFMAP, 0}, {SIOCSPGRP, 0}, {SIOCADDRT, 0},
      {SIOCDELRT, 0}, {SIOCSARP, 0}, {SIOCDARP, 0}, {SIOCADDMULTI, 0}, {SIOCDELMULTI, 0},
      {SIOCBRADDBR, 0}, {SIOCBRDELBR, 0}, {SIOCBRADDIF, 0}, {SIOCBRDELIF, 0},
      // Tun devices write the interface's name back, though the numbers say otherwise.
      {TUNSETIFF, sizeof(ifreq)}, {TUNGETIFF, sizeof(ifreq)},
      // Block devices and file systems.
      {BLKGETSIZE, sizeof(unsigned long)}, {BLKSSZGET, sizeof(int)}, {BLKROGET, sizeof(int)},
      {BLKRAGET, sizeof(long)}, {BLKFRAGET, sizeof(long)}, {BLKSECTGET, sizeof(unsigned short)},
      {FIGETBSZ, sizeof(int)}, {FIBMAP, sizeof(int)}, {BLKFLSBUF, 0}, {BLKRRPART, 0},
      {FS_IOC_GET_ENCRYPTION_POLICY, 12},
  };
  return sizes;
}

std::uint64_t read_word(Tracee& tracee, std::uint64_t addr) {
  std::uint64_t word = 0;
  tracee.read_some(RemotePtr(addr), &word, sizeof word);
  return word;
}

}  // namespace

std::optional<std::vector<WrittenRange>> ioctl_writes(Tracee& tracee, std::uint64_t request, std::uint64_t arg) {
  request &= 0xffffffffu;  // the kernel takes the request as an unsigned int
  switch (request) {
    case SIOCGIFCONF: {
      // A struct ifconf: its length word is updated, its buffer filled.
      ifconf conf{};
      if (tracee.read_some(RemotePtr(arg), &conf, sizeof conf) != sizeof conf) return std::vector<WrittenRange>{};
      return std::vector<WrittenRange>{{arg, sizeof conf},
                                       {reinterpret_cast<std::uint64_t>(conf.ifc_buf), static_cast<std::uint64_t>(conf.ifc_len)}};
    }
    case SIOCGIFBR:
    case SIOCSIFBR: {
      // Three words: the command, a buffer, and how many indices it holds.
      if (read_word(tracee, arg) != kBrctlGetBridges) return std::vector<WrittenRange>{};
      return std::vector<WrittenRange>{{read_word(tracee, arg + 8), read_word(tracee, arg + 16) * sizeof(int)}};
    }
    case FS_IOC_FIEMAP: {
      fiemap map{};
      if (tracee.read_some(RemotePtr(arg), &map, sizeof map) != sizeof map) return std::vector<WrittenRange>{};
      return std::vector<WrittenRange>{{arg, sizeof map + std::uint64_t{map.fm_extent_count} * sizeof(fiemap_extent)}};
    }
    default: break;
  }
  if (auto known = fixed_sizes().find(request); known != fixed_sizes().end())
    return std::vector<WrittenRange>{{arg, known->second}};
  // Requests built with _IOR/_IOWR say how much the kernel writes back; with
  // _IOW, that it writes nothing.
  if ((_IOC_DIR(request) & _IOC_READ) != 0) return std::vector<WrittenRange>{{arg, _IOC_SIZE(request)}};
  if (_IOC_DIR(request) == _IOC_WRITE) return std::vector<WrittenRange>{};
  // _IO requests carry no data, but the number ranges of the tty, console,
  // socket, block, cdrom and SCSI requests that predate the encoding look
  // like _IO too: those not listed above are unknown.
  switch (_IOC_TYPE(request)) {
    case 0x00: case 0x12: case 0x22: case 0x4b: case 0x53: case 0x54: case 0x56: case 0x89:
      return std::nullopt;
    default: return std::vector<WrittenRange>{};
  }
}

}  // namespace ttdb
