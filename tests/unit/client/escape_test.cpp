// The escape filter (client/twoway/escape.cpp): ssh's ~ sequences, recognised only at the start of a
// line, in whatever pieces the terminal delivers the bytes.
#include <catch2/catch.hpp>

#include <span>
#include <string>
#include <vector>

#include "../../../client/twoway/escape.hpp"

using twoway_client::EscapeFilter;
using Command = EscapeFilter::Command;
using Commands = std::vector<Command>;

namespace {

struct Filtered {
    std::string bytes;
    Commands commands;
};

// Feeds each piece in turn to one filter, as separate reads from the terminal.
Filtered feed(EscapeFilter& f, const std::vector<std::string>& pieces) {
    EscapeFilter::Output out;
    for (const auto& p : pieces) f.filter(std::as_bytes(std::span(p.data(), p.size())), out);
    return {std::string(reinterpret_cast<const char*>(out.bytes.data()), out.bytes.size()), out.commands};
}

Filtered feed(const std::vector<std::string>& pieces, int escape = '~') {
    EscapeFilter f(escape);
    return feed(f, pieces);
}

}  // namespace

TEST_CASE("escape: ~. at the start disconnects and drops what follows", "[client]") {
    auto r = feed({"~.ls\n"});
    CHECK(r.bytes.empty());
    CHECK(r.commands == Commands{Command::disconnect});
}

TEST_CASE("escape: commands after a line break, \\r or \\n", "[client]") {
    auto r = feed({"ls\r~."});
    CHECK(r.bytes == "ls\r");
    CHECK(r.commands == Commands{Command::disconnect});

    r = feed({"ls\n~?"});
    CHECK(r.bytes == "ls\n");
    CHECK(r.commands == Commands{Command::help});

    r = feed({"a\r\n~\x1a"});
    CHECK(r.bytes == "a\r\n");
    CHECK(r.commands == Commands{Command::suspend});
}

TEST_CASE("escape: ~? and ~^Z leave the line start, so another escape may follow", "[client]") {
    auto r = feed({"~?~."});
    CHECK(r.bytes.empty());
    CHECK(r.commands == Commands{Command::help, Command::disconnect});

    r = feed({"~\x1a~?x"});
    CHECK(r.bytes == "x");
    CHECK(r.commands == Commands{Command::suspend, Command::help});
}

TEST_CASE("escape: ~ not at a line start passes through", "[client]") {
    auto r = feed({"cd ~/src\r", "a~.b"});
    CHECK(r.bytes == "cd ~/src\ra~.b");
    CHECK(r.commands.empty());

    r = feed({"x~?"});
    CHECK(r.bytes == "x~?");
    CHECK(r.commands.empty());
}

TEST_CASE("escape: ~~ sends one ~, which does not start a command", "[client]") {
    auto r = feed({"~~"});
    CHECK(r.bytes == "~");
    CHECK(r.commands.empty());

    // The ~ sent is not at a line start any more: "~~." is "~." for the remote.
    r = feed({"~~."});
    CHECK(r.bytes == "~.");
    CHECK(r.commands.empty());
}

TEST_CASE("escape: an unknown ~x sends both characters", "[client]") {
    auto r = feed({"~x"});
    CHECK(r.bytes == "~x");
    CHECK(r.commands.empty());

    // After ~ and a line break, the next line starts again.
    r = feed({"~\r~."});
    CHECK(r.bytes == "~\r");
    CHECK(r.commands == Commands{Command::disconnect});
}

TEST_CASE("escape: a sequence split across two reads", "[client]") {
    auto r = feed({"ls\r", "~", "."});
    CHECK(r.bytes == "ls\r");
    CHECK(r.commands == Commands{Command::disconnect});

    r = feed({"\n~", "~"});
    CHECK(r.bytes == "\n~");

    r = feed({"~", "x"});
    CHECK(r.bytes == "~x");

    // The ~ held back at the end of one read is not sent until the next read says what it is.
    EscapeFilter f('~');
    CHECK(feed(f, {"ls\r~"}).bytes == "ls\r");
    CHECK(feed(f, {"?"}).commands == Commands{Command::help});
}

TEST_CASE("escape: other escape characters and none", "[client]") {
    auto r = feed({"~.", "\r#."}, '#');
    CHECK(r.bytes == "~.\r");
    CHECK(r.commands == Commands{Command::disconnect});

    r = feed({"\x1d."}, 0x1d);  // -e ^]
    CHECK(r.commands == Commands{Command::disconnect});

    r = feed({"~.", "\r~?"}, EscapeFilter::none);
    CHECK(r.bytes == "~.\r~?");
    CHECK(r.commands.empty());
}

TEST_CASE("escape: name and help", "[client]") {
    CHECK(EscapeFilter('~').name() == "~");
    CHECK(EscapeFilter(0x1d).name() == "^]");
    CHECK(EscapeFilter(EscapeFilter::none).name() == "none");
    const std::string help = EscapeFilter('#').help();
    CHECK(help.find(" #.   - terminate connection") != std::string::npos);
    CHECK(help.find(" ##   - send the escape character by typing it twice") != std::string::npos);
}

TEST_CASE("escape: ~C reads a command line with its own echo; nothing on it reaches the remote", "[client]") {
    EscapeFilter f('~');
    EscapeFilter::Output out;
    const std::string typed = "ls\r~C-L 8080:web\x7f\x7f" "eb\r" "pwd\r";
    f.filter(std::as_bytes(std::span(typed.data(), typed.size())), out);
    CHECK(std::string(reinterpret_cast<const char*>(out.bytes.data()), out.bytes.size()) == "ls\rpwd\r");
    CHECK(out.commands == Commands{Command::command_line});
    CHECK(out.lines == std::vector<std::string>{"-L 8080:web"});
    CHECK(out.echo == "\r\ntwoway> -L 8080:web\b \b\b \beb\r\n");

    // In pieces; ^U erases the line, control characters are ignored; after Enter, a line start again.
    EscapeFilter g('~');
    EscapeFilter::Output o2;
    for (const std::string piece : {"~", "C", "junk\x15", "-KL\x01 80", "\n~."}) {
        g.filter(std::as_bytes(std::span(piece.data(), piece.size())), o2);
    }
    CHECK(o2.bytes.empty());
    CHECK(o2.commands == Commands{Command::command_line, Command::disconnect});
    CHECK(o2.lines == std::vector<std::string>{"-KL 80"});
}

TEST_CASE("escape: ^C gives up the command line; the line is bounded", "[client]") {
    EscapeFilter f('~');
    EscapeFilter::Output out;
    const std::string typed = "~C-L 1:x\x03" "after\r";
    f.filter(std::as_bytes(std::span(typed.data(), typed.size())), out);
    CHECK(out.commands.empty());
    CHECK(out.lines.empty());
    // After ^C the person is at a line start again: "after" goes to the remote.
    CHECK(std::string(reinterpret_cast<const char*>(out.bytes.data()), out.bytes.size()) == "after\r");

    EscapeFilter g('~');
    EscapeFilter::Output o2;
    const std::string longer = "~C" + std::string(2 * EscapeFilter::max_command_line, 'a') + "\r";
    g.filter(std::as_bytes(std::span(longer.data(), longer.size())), o2);
    REQUIRE(o2.lines.size() == 1);
    CHECK(o2.lines[0].size() == EscapeFilter::max_command_line);
    CHECK(o2.bytes.empty());
}

TEST_CASE("escape: with the command line disabled, ~C reads no line", "[client]") {
    EscapeFilter f('~', false);
    EscapeFilter::Output out;
    const std::string typed = "~Cls\r";
    f.filter(std::as_bytes(std::span(typed.data(), typed.size())), out);
    CHECK(out.commands == Commands{Command::command_line});
    CHECK(out.lines == std::vector<std::string>{""});
    CHECK(std::string(reinterpret_cast<const char*>(out.bytes.data()), out.bytes.size()) == "ls\r");
}
