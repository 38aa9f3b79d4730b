// Judges one damaged run against the undamaged core's answer.
#pragma once
#include <string>
#include <vector>

#include "answer.hpp"

namespace coresift::damage {

struct Verdict {
  bool crashed = false;                  // signal or hang: never excused by the KNOWN list
  std::vector<std::string> broken;       // crash, hang, exit status other than 0 or 3
  std::vector<std::string> silent_loss;  // something lost with no new message naming it
  bool ok() const { return broken.empty() && silent_loss.empty(); }
};

Verdict judge(const Answer& pristine, const Answer& damaged);

}  // namespace coresift::damage
