#include "cf/cli/tool.hpp"

#include <exception>
#include <iostream>

namespace cf::cli {

std::string_view project_version() noexcept { return CF_VERSION; }

std::unique_ptr<CLI::App> make_app(const std::string& tool, const std::string& description) {
  auto app = std::make_unique<CLI::App>(description, tool);
  app->set_version_flag("--version", tool + " (ciscoflash) " + std::string(project_version()));
  app->footer("See " + tool + "(" + (tool.starts_with("cisco-") ? "8" : "1") +
             ") for the output format and examples. Exit codes: 0 ok, 1 failure, "
             "2 usage error, 3 verification failed.");
  return app;
}

int run_tool(CLI::App& app, int argc, char** argv, const std::function<int()>& body) {
  const auto diagnostics = Diagnostics::for_stderr(app.get_name());
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    diagnostics.error(e.what());
    std::cerr << "Run '" << app.get_name() << " --help' for usage.\n";
    return static_cast<int>(ExitCode::usage);
  } catch (const Error& e) {
    diagnostics.error(e.what());
    return static_cast<int>(e.code());
  }
  try {
    return body();
  } catch (const Error& e) {
    diagnostics.error(e.what());
    return static_cast<int>(e.code());
  } catch (const std::exception& e) {
    diagnostics.error(e.what());
    return static_cast<int>(ExitCode::failure);
  }
}

}  // namespace cf::cli
