module Crm
  NAME = "crm"
end
