// Signal and si_code names, as strsignal/psiginfo would print them.
#include <csignal>
#include <cstring>
#include <string>

#include "coresift/process/process.hpp"

namespace coresift {

std::string signal_name(int signo) {
  if (const char* abbrev = sigabbrev_np(signo)) return std::string("SIG") + abbrev;
  if (signo >= SIGRTMIN && signo <= SIGRTMAX) return "SIGRTMIN+" + std::to_string(signo - SIGRTMIN);
  return "SIG" + std::to_string(signo);
}

std::string signal_code_name(int signo, int code) {
  switch (code) {  // codes that mean the same for every signal
    case SI_USER: return "SI_USER";
    case SI_KERNEL: return "SI_KERNEL";
    case SI_QUEUE: return "SI_QUEUE";
    case SI_TIMER: return "SI_TIMER";
    case SI_MESGQ: return "SI_MESGQ";
    case SI_ASYNCIO: return "SI_ASYNCIO";
    case SI_SIGIO: return "SI_SIGIO";
    case SI_TKILL: return "SI_TKILL";
    default: break;
  }
  struct Name { int signo, code; const char* name; };
  static const Name names[] = {
      {SIGSEGV, SEGV_MAPERR, "SEGV_MAPERR"}, {SIGSEGV, SEGV_ACCERR, "SEGV_ACCERR"},
      {SIGSEGV, 3, "SEGV_BNDERR"},           {SIGSEGV, 4, "SEGV_PKUERR"},
      {SIGBUS, BUS_ADRALN, "BUS_ADRALN"},    {SIGBUS, BUS_ADRERR, "BUS_ADRERR"},
      {SIGBUS, BUS_OBJERR, "BUS_OBJERR"},    {SIGBUS, 4, "BUS_MCEERR_AR"},
      {SIGBUS, 5, "BUS_MCEERR_AO"},          {SIGILL, ILL_ILLOPC, "ILL_ILLOPC"},
      {SIGILL, ILL_ILLOPN, "ILL_ILLOPN"},    {SIGILL, ILL_ILLADR, "ILL_ILLADR"},
      {SIGILL, ILL_ILLTRP, "ILL_ILLTRP"},    {SIGILL, ILL_PRVOPC, "ILL_PRVOPC"},
      {SIGILL, ILL_PRVREG, "ILL_PRVREG"},    {SIGILL, ILL_COPROC, "ILL_COPROC"},
      {SIGILL, ILL_BADSTK, "ILL_BADSTK"},    {SIGFPE, FPE_INTDIV, "FPE_INTDIV"},
      {SIGFPE, FPE_INTOVF, "FPE_INTOVF"},    {SIGFPE, FPE_FLTDIV, "FPE_FLTDIV"},
      {SIGFPE, FPE_FLTOVF, "FPE_FLTOVF"},    {SIGFPE, FPE_FLTUND, "FPE_FLTUND"},
      {SIGFPE, FPE_FLTRES, "FPE_FLTRES"},    {SIGFPE, FPE_FLTINV, "FPE_FLTINV"},
      {SIGFPE, FPE_FLTSUB, "FPE_FLTSUB"},    {SIGTRAP, TRAP_BRKPT, "TRAP_BRKPT"},
      {SIGTRAP, TRAP_TRACE, "TRAP_TRACE"},   {SIGCHLD, CLD_EXITED, "CLD_EXITED"},
      {SIGCHLD, CLD_KILLED, "CLD_KILLED"},   {SIGCHLD, CLD_DUMPED, "CLD_DUMPED"},
      {SIGSYS, 1, "SYS_SECCOMP"},
  };
  for (const Name& n : names)
    if (n.signo == signo && n.code == code) return n.name;
  return std::to_string(code);
}

}  // namespace coresift
