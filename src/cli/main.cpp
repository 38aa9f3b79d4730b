// coresift: thin command-line front end over the library (see docs/commands.md).
#include <iostream>

#include "command.hpp"

int main(int argc, char** argv) {
  CLI::App app{"coresift: where did a dead process's memory go, who owns it, and why did it crash"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "coresift 0.1.0");
  coresift::cli::Runner run;
  coresift::cli::register_process_commands(app, run);
  coresift::cli::register_heap_commands(app, run);
  coresift::cli::register_analysis_commands(app, run);
  coresift::cli::register_triage_command(app, run);
  coresift::cli::register_diff_command(app, run);
  coresift::cli::register_report_command(app, run);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }
  try {
    return run ? run() : 2;
  } catch (const std::exception& e) {
    std::cerr << "coresift: internal error: " << e.what() << "\n";
    return 4;
  }
}
