#pragma once
// What every tool's main() shares: the CLI11 app with --version from the
// project version, and run_tool, which turns parse errors into exit 2 and
// cf::Error into its own exit code with one `tool: error: ...` line.
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

#include "cf/cli/diagnostics.hpp"
#include "cf/cli/error.hpp"

namespace cf::cli {

std::string_view project_version() noexcept;

// A CLI11 app named `tool` with --version and a footer pointing at the man page.
std::unique_ptr<CLI::App> make_app(const std::string& tool, const std::string& description);

// Parses argv into `app`, then calls `body`; returns the process exit code.
int run_tool(CLI::App& app, int argc, char** argv, const std::function<int()>& body);

}  // namespace cf::cli
