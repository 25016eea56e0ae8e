#include "identity/smart_scopes.h"

#include <gtest/gtest.h>
