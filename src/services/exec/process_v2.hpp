// Boost.Process v2 as Boost 1.81 ships it, with std::filesystem. Two header
// bugs of 1.81 in that mode need a hand: config.hpp names boost::optional
// without including it, and the POSIX launcher and the environment name `decay` and `remove_pointer`
// unqualified.
#pragma once

#include <boost/optional.hpp>

#include <type_traits>

#ifndef BOOST_PROCESS_USE_STD_FS
#define BOOST_PROCESS_USE_STD_FS 1
#endif

namespace boost::process::v2 {
using std::remove_pointer;
namespace posix {
using std::decay;
}
}  // namespace boost::process::v2

#include <boost/process/v2/process.hpp>
#include <boost/process/v2/start_dir.hpp>
#include <boost/process/v2/stdio.hpp>
