# frozen_string_literal: true

module Shop
  VERSION = "1.4.0"
end
