#include "services/http/output.hpp"

#include "services/http/fetch_types.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sockit::http {

namespace {

// Where the part file keeps the version it holds (a user xattr; on a file
// system without them, resuming goes without If-Range and relies on the
// total length check).
constexpr const char* kValidatorAttribute = "user.sockit.validator";

std::string error_text(int error) {
  return error == ENOSPC ? "the disk is full" : std::strerror(error);
}

void write_all(int fd, std::string_view bytes, const std::string& name, std::int64_t at = -1) {
  while (!bytes.empty()) {
    ssize_t n =
        at < 0 ? ::write(fd, bytes.data(), bytes.size()) : ::pwrite(fd, bytes.data(), bytes.size(), at);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw FetchError("cannot write " + name + ": " + error_text(errno), kWriteError);
    bytes.remove_prefix(static_cast<std::size_t>(n));
    if (at >= 0) at += n;
  }
}

class StreamOutput final : public Output {
 public:
  explicit StreamOutput(int fd) : fd_(fd) {}
  std::uint64_t have() const override { return written_; }
  void start(std::uint64_t offset, const std::string&) override {
    if (offset != written_)
      throw FetchError("the server sent the download from the start again, after " +
                           std::to_string(written_) + " bytes went to " + name() +
                           " (use -o FILE to be able to restart)",
                       kPartialFile);
  }
  void write(std::string_view bytes) override {
    write_all(fd_, bytes, name());
    written_ += bytes.size();
  }
  void complete() override {}
  void abandon(bool) override {}
  std::string name() const override { return fd_ == STDOUT_FILENO ? "stdout" : "the output"; }

 private:
  int fd_;
  std::uint64_t written_ = 0;
};

class FileOutput final : public Output {
 public:
  FileOutput(std::string path, bool resume, bool header_name)
      : path_(std::move(path)), header_name_(header_name) {
    name_parts();
    struct stat st {};
    if (::stat(part_.c_str(), &st) == 0) {
      have_ = resume ? static_cast<std::uint64_t>(st.st_size) : 0;
    } else if (resume && ::stat(path_.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      // A partial file from another tool, or an earlier complete one: carry on from it.
      if (::rename(path_.c_str(), part_.c_str()) != 0)
        throw FetchError("cannot resume " + path_ + ": " + std::strerror(errno), kWriteError);
      have_ = static_cast<std::uint64_t>(st.st_size);
      moved_final_ = true;
    }
    if (have_ > 0) {
      char value[1024];
      ssize_t n = ::getxattr(part_.c_str(), kValidatorAttribute, value, sizeof value);
      if (n > 0) validator_.assign(value, static_cast<std::size_t>(n));
    }
  }
  ~FileOutput() override {
    if (fd_ >= 0) ::close(fd_);
  }

  std::uint64_t have() const override { return have_; }
  std::string validator() const override { return validator_; }

  void suggest_name(const std::string& name) override {
    if (!header_name_ || name.empty() || fd_ >= 0) return;
    path_ = dir_ + name;
    name_parts();
  }

  void start(std::uint64_t offset, const std::string& validator) override {
    if (fd_ < 0) {
      fd_ = ::open(part_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
      if (fd_ < 0) throw FetchError("cannot write " + part_ + ": " + error_text(errno), kWriteError);
    }
    // Whatever lies beyond `offset` is not trusted (and 0 starts over).
    if (::ftruncate(fd_, static_cast<off_t>(offset)) != 0 ||
        ::lseek(fd_, static_cast<off_t>(offset), SEEK_SET) < 0)
      throw FetchError("cannot write " + part_ + ": " + error_text(errno), kWriteError);
    have_ = offset;
    if (validator != validator_) {
      validator_ = validator;
      if (validator.empty())
        ::fremovexattr(fd_, kValidatorAttribute);
      else
        ::fsetxattr(fd_, kValidatorAttribute, validator.data(), validator.size(), 0);
    }
  }

  void write(std::string_view bytes) override {
    write_all(fd_, bytes, path_);
    have_ += bytes.size();
  }

  void write_at(std::uint64_t offset, std::string_view bytes) override {
    write_all(fd_, bytes, path_, static_cast<std::int64_t>(offset));
  }

  void reserve(std::uint64_t size) override {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0)
      throw FetchError("cannot write " + part_ + ": " + error_text(errno), kWriteError);
  }

  void complete() override {
    if (fd_ < 0) start(0, {});  // an empty body still makes the file
    ::fremovexattr(fd_, kValidatorAttribute);
    ::close(fd_);
    fd_ = -1;
    if (::rename(part_.c_str(), path_.c_str()) != 0)
      throw FetchError("cannot save " + path_ + ": " + std::strerror(errno), kWriteError);
  }

  void abandon(bool keep) override {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    if (keep) return;
    // Put back a file -c took as its part; otherwise drop the part.
    if (moved_final_)
      ::rename(part_.c_str(), path_.c_str());
    else
      ::unlink(part_.c_str());
  }

  std::string name() const override { return path_; }
  std::string part_name() const override { return part_; }

 private:
  void name_parts() {
    auto slash = path_.rfind('/');
    dir_ = slash == std::string::npos ? "" : path_.substr(0, slash + 1);
    std::string base = slash == std::string::npos ? path_ : path_.substr(slash + 1);
    part_ = dir_ + "." + base + ".sockit-part";
  }

  std::string path_;
  bool header_name_;
  std::string dir_;
  std::string part_;
  std::string validator_;
  std::uint64_t have_ = 0;
  bool moved_final_ = false;
  int fd_ = -1;
};

}  // namespace

void Output::write_at(std::uint64_t, std::string_view) {
  throw FetchError("--split needs a file to write to (-o FILE or -O)", kUsage);
}

std::unique_ptr<Output> make_stream_output(int fd) {
  return std::make_unique<StreamOutput>(fd);
}

std::unique_ptr<Output> make_file_output(const std::string& path, bool resume, bool header_name) {
  return std::make_unique<FileOutput>(path, resume, header_name);
}

}  // namespace sockit::http
